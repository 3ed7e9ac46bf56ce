package armemu

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// Config configures an Engine. Backend is required; every other field has a
// default.
type Config struct {
	// Backend is the data plane that serves the pools ARM provisions. Its
	// methods are called with the engine's lock held: they must not call back
	// into the Engine.
	Backend Backend
	// SigningKey is the HS256 key that ARM bearer tokens must be signed with
	// and that the managed identity endpoint signs its tokens with.
	SigningKey []byte
	// TenantID is the directory (tenant) ID reported for identities and put in
	// minted tokens. Default: a fixed all-zero-but-one GUID.
	TenantID string
	// BaseURL returns the emulator's https base URL, used in Location and
	// Azure-AsyncOperation headers and nextLinks. Default: https:// plus the
	// request's Host.
	BaseURL func() string
	// SystemPrincipalID is the object ID of the emulator's system-assigned
	// identity: the oid of managed identity tokens requested without a
	// client_id (what DefaultAzureCredential gets). Default: a random UUID.
	SystemPrincipalID string
	// PrincipalNotFoundFor is how long after an identity is created a role
	// assignment naming its principal (without principalType
	// ServicePrincipal) is refused with PrincipalNotFound, as Entra
	// replication delay causes in Azure. Default 0: never refused, which keeps
	// examples fast.
	PrincipalNotFoundFor time.Duration
	// LROPolls is how many status reads of a long-running operation report it
	// as still running before it reports its final state. 0 means the default
	// 1; a negative value makes operations finish at once.
	LROPolls int
	// RetryAfter is the polling delay advertised on long-running operation
	// responses (Retry-After-Ms, and Retry-After in whole seconds when at
	// least one second). Default 10ms; azcore pollers honour it instead of
	// their 30-second default frequency.
	RetryAfter time.Duration
	// PageSize is the number of items per list page before a nextLink is
	// returned. Default 50.
	PageSize int
	// SubscriptionID is the subscription GET /subscriptions lists (with any
	// other subscription a resource group was created in). Default
	// DefaultSubscriptionID.
	SubscriptionID string
	// ClientID and ClientSecret are the credentials of the emulator's service
	// principal: the Entra ID token endpoint grants client credentials tokens
	// for them, with SystemPrincipalID as their oid. Defaults: a random UUID
	// and a random secret (see ServicePrincipal).
	ClientID, ClientSecret string
	// Now returns the current time for resource timestamps and the
	// PrincipalNotFound window, so tests can move it. Default time.Now.
	// Tokens are always minted and checked against the real clock, as the
	// clients that use them check them against it.
	Now func() time.Time
}

// DefaultTenantID is the tenant ID used when Config.TenantID is empty.
const DefaultTenantID = "72f988bf-0000-4000-8000-00000000e4e1"

// DefaultSubscriptionID is the subscription used when Config.SubscriptionID
// is empty.
const DefaultSubscriptionID = "00000000-0000-0000-0000-000000000000"

// Engine is the emulator's Azure Resource Manager and managed identity side:
// resource groups, provider registration, session pools, template
// deployments, user-assigned identities, role assignments and an App Service
// style managed identity token endpoint. It is safe for concurrent use.
type Engine struct {
	cfg       Config
	idHeader  string
	system    Identity
	mu        sync.Mutex
	rgs       map[string]*resourceGroup
	providers map[string]*provider
	pools     map[string]*pool
	idents    map[string]*identity
	roles     map[string]*roleAssignment
	deploys   map[string]*deployment
	ops       map[string]*operation
	opOrder   []string // operation ids, oldest first (see newOp)
	serial    uint64   // the last PoolSpec.Serial given (see stamp)
}

// New returns an Engine configured by cfg. It panics when cfg.Backend is nil,
// a programming error.
func New(cfg Config) *Engine {
	if cfg.Backend == nil {
		panic("armemu: Config.Backend is required")
	}
	if cfg.TenantID == "" {
		cfg.TenantID = DefaultTenantID
	}
	if cfg.LROPolls == 0 {
		cfg.LROPolls = 1
	} else if cfg.LROPolls < 0 {
		cfg.LROPolls = 0
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 10 * time.Millisecond
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SubscriptionID == "" {
		cfg.SubscriptionID = DefaultSubscriptionID
	}
	if cfg.SystemPrincipalID == "" {
		cfg.SystemPrincipalID = uuid.NewString()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = uuid.NewString()
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = randomSecret()
	}
	e := &Engine{
		cfg:       cfg,
		idHeader:  uuid.NewString(),
		rgs:       map[string]*resourceGroup{},
		providers: map[string]*provider{},
		pools:     map[string]*pool{},
		idents:    map[string]*identity{},
		roles:     map[string]*roleAssignment{},
		deploys:   map[string]*deployment{},
		ops:       map[string]*operation{},
	}
	e.system = Identity{
		Name:        "system-assigned",
		PrincipalID: cfg.SystemPrincipalID,
		ClientID:    cfg.ClientID,
		TenantID:    cfg.TenantID,
		Created:     cfg.Now(),
	}
	return e
}
