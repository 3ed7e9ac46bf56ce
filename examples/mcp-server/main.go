// Command mcp-server gives an AI agent a sandbox: it serves a shell session
// pool as Model Context Protocol (MCP) tools. Each MCP client session gets
// its own session of the pool (its identifier derived with fleet.IDs from a
// key, so two clients never share one), with a persistent bash shell, files
// under /mnt/data and background processes; the session is deleted when the
// MCP session ends or sits idle. Tools: run_command, edit_file,
// start_process, read_process_output, kill_process, upload_file,
// download_file, list_files.
//
// Over stdio (the default), for an MCP host that starts the program:
//
//	SHELLPOOL_POOL_ENDPOINT=https://<region>.dynamicsessions.io/subscriptions/.../sessionPools/<pool> \
//	go run ./examples/mcp-server
//
// Over streamable HTTP, on 127.0.0.1 unless -http names another host, with
// a bearer secret that every request must carry (it refuses to start
// without one):
//
//	SHELLPOOL_MCP_SECRET=$(openssl rand -hex 32) go run ./examples/mcp-server -http :8765
//
// SHELLPOOL_MCP_KEY (32 random bytes in hex) keeps the identifiers across
// restarts; a new run then deletes the sandboxes an earlier one left behind
// (it crashed) once they have been idle for -idle. Without it each run
// uses a random key of its own.
//
// It signs in with azidentity's DefaultAzureCredential (az login, a managed
// identity, workload identity), whose principal needs the Session Executor
// role on the pool. It fails closed: without a pool it refuses to start.
// With emulator.go (leave it out when you copy the program), -emulator runs
// it against the local emulator. Everything it logs goes to stderr, never
// stdout (the stdio transport's channel).
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
)

// minSecretLen is the shortest bearer secret the HTTP transport accepts.
const minSecretLen = 32

type settings struct {
	httpAddr      string // empty: stdio
	secret        string
	endpoint      string
	subscription  string
	group         string
	pool          string
	key           []byte
	stableKey     bool // the key came from SHELLPOOL_MCP_KEY: earlier runs' sandboxes are recognised
	idle          time.Duration
	progressEvery time.Duration
	verbose       bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := loadSettings(os.Args[1:], os.Getenv)
	if err == nil {
		err = run(ctx, s, os.Stdin, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcp-server:", err)
		os.Exit(1)
	}
}

func loadSettings(args []string, getenv func(string) string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("mcp-server", flag.ContinueOnError)
	fs.StringVar(&s.httpAddr, "http", "", "serve streamable HTTP at this address instead of stdio: :8765 binds 127.0.0.1:8765; needs $SHELLPOOL_MCP_SECRET")
	fs.StringVar(&s.endpoint, "pool-endpoint", getenv("SHELLPOOL_POOL_ENDPOINT"), "the pool's management endpoint ($SHELLPOOL_POOL_ENDPOINT); or give -subscription, -resource-group and -pool to look it up")
	fs.StringVar(&s.subscription, "subscription", getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	fs.StringVar(&s.group, "resource-group", getenv("SHELLPOOL_RESOURCE_GROUP"), "resource group of the pool ($SHELLPOOL_RESOURCE_GROUP)")
	fs.StringVar(&s.pool, "pool", getenv("SHELLPOOL_POOL"), "session pool name ($SHELLPOOL_POOL)")
	fs.DurationVar(&s.idle, "idle", 15*time.Minute, "delete a client's sandbox after this long without a tool call")
	fs.DurationVar(&s.progressEvery, "progress-interval", 5*time.Second, "how often a long command reports progress to clients that ask for it")
	fs.BoolVar(&s.verbose, "v", false, "log every sandbox created and deleted (to stderr)")
	addFlags(fs, getenv)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return s, fmt.Errorf("%w (run with -h for the flags)", err)
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q (run with -h for the flags)", fs.Arg(0))
	}
	if s.idle <= 0 || s.progressEvery <= 0 {
		return s, errors.New("-idle and -progress-interval must be positive")
	}
	s.secret = getenv("SHELLPOOL_MCP_SECRET")
	if s.httpAddr != "" {
		host, port, err := net.SplitHostPort(s.httpAddr)
		if err != nil {
			return s, fmt.Errorf("-http %q: give host:port, such as 127.0.0.1:8765 (or :8765 for 127.0.0.1)", s.httpAddr)
		}
		if host == "" {
			host = "127.0.0.1" // loopback unless an address is given
			s.httpAddr = net.JoinHostPort(host, port)
		}
		loopback := host == "localhost"
		if ip := net.ParseIP(host); ip != nil {
			loopback = ip.IsLoopback()
		}
		switch {
		case s.secret == "" && !loopback:
			return s, fmt.Errorf("refusing to serve on %s, which is not a loopback address, without a bearer secret: set SHELLPOOL_MCP_SECRET to a random string of at least %d characters (openssl rand -hex 32) and give it to your MCP clients", s.httpAddr, minSecretLen)
		case s.secret == "":
			return s, fmt.Errorf("serving HTTP needs a bearer secret, even on %s (any program on this machine could reach it): set SHELLPOOL_MCP_SECRET to a random string of at least %d characters (openssl rand -hex 32) and give it to your MCP clients", s.httpAddr, minSecretLen)
		case len(s.secret) < minSecretLen:
			return s, fmt.Errorf("SHELLPOOL_MCP_SECRET is %d characters; use at least %d random ones (openssl rand -hex 32)", len(s.secret), minSecretLen)
		}
	}
	if k := getenv("SHELLPOOL_MCP_KEY"); k != "" {
		key, err := hex.DecodeString(k)
		if err != nil || len(key) < fleet.MinKeyLen {
			return s, fmt.Errorf("SHELLPOOL_MCP_KEY must be at least %d bytes in hex (openssl rand -hex 32)", fleet.MinKeyLen)
		}
		s.key, s.stableKey = key, true
	} else {
		// A key of this run only: identifiers stay unguessable; a restart
		// no longer recognises the old ones (they expire with the pool's
		// cooldown).
		s.key = make([]byte, 32)
		if _, err := rand.Read(s.key); err != nil {
			return s, err
		}
	}
	return s, checkPool(&s)
}

// Hooks that emulator.go, which you leave out when you copy this program,
// replaces to add -emulator (the local emulator instead of Azure).
var (
	// addFlags registers flags beyond the program's own.
	addFlags = func(fs *flag.FlagSet, getenv func(string) string) {}
	// checkPool refuses settings that name no pool: the program never
	// runs commands anywhere but where it was told to.
	checkPool = func(s *settings) error {
		if s.endpoint == "" && (s.subscription == "" || s.group == "" || s.pool == "") {
			return errors.New("no session pool: set SHELLPOOL_POOL_ENDPOINT (-pool-endpoint), or AZURE_SUBSCRIPTION_ID, SHELLPOOL_RESOURCE_GROUP and SHELLPOOL_POOL to look it up, to use Azure")
		}
		return nil
	}
	// connect returns the client options for the pool's clients (Azure's
	// defaults) and a function to call when done.
	connect = func(s *settings, stderr io.Writer) (opts azcore.ClientOptions, stop func(), err error) {
		return opts, func() {}, nil
	}
)

func run(ctx context.Context, s settings, stdin io.ReadCloser, stdout io.WriteCloser, stderr io.Writer) error {
	level := slog.LevelWarn
	if s.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts, stop, err := connect(&s, stderr) // Azure, or the emulator with -emulator (emulator.go)
	if err != nil {
		return err
	}
	defer stop()
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return err
	}
	endpoint := s.endpoint
	if endpoint == "" {
		pools, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: opts}})
		if err != nil {
			return err
		}
		p, err := pools.Get(ctx, s.group, s.pool, nil)
		if err != nil {
			return fmt.Errorf("looking up the pool's endpoint: %w", err)
		}
		endpoint = p.Endpoint()
	}
	client, err := sessions.NewClient(endpoint, cred, &sessions.ClientOptions{ClientOptions: opts})
	if err != nil {
		return err
	}
	ids := &fleet.IDs{Key: s.key, Prefix: "mcp"}
	if s.stableKey {
		// Sandboxes that an earlier run left behind (it crashed or was
		// killed) are recognised by the key: delete those idle for -idle.
		reapLeftovers(ctx, ids, endpoint, cred, opts, s.idle, log)
	}
	boxes := newSandboxServer(config{
		client:        client,
		ids:           ids,
		idle:          s.idle,
		progressEvery: s.progressEvery,
		log:           log,
	})
	defer boxes.Close() // deletes every sandbox still open
	server := boxes.newMCPServer("0")

	if s.httpAddr == "" {
		err := server.Run(ctx, &mcp.IOTransport{Reader: stdin, Writer: stdout})
		if ctx.Err() != nil || errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	return serveHTTP(ctx, s, server, stderr)
}

// reapLeftovers deletes the sandbox sessions of this server's key that
// have been idle for idle: those of an earlier run that ended without
// deleting them. Sessions of other keys, and recently used ones (another
// replica's), are left alone. A failure is logged, not fatal: the pool
// deletes idle sessions after its cooldown anyway.
func reapLeftovers(ctx context.Context, ids *fleet.IDs, endpoint string, cred azcore.TokenCredential, opts azcore.ClientOptions, idle time.Duration, log *slog.Logger) {
	f, err := fleet.New(&fleet.Options{
		IDs:      *ids,
		ReapIdle: idle,
		Pools: []fleet.Pool{{Name: "pool", Endpoint: endpoint, Credential: cred,
			ClientOptions: &sessions.ClientOptions{ClientOptions: opts}, MaxConcurrentSessions: 1}},
	})
	if err == nil {
		defer f.Close(context.WithoutCancel(ctx))
		var res fleet.ReapResult
		if res, err = f.Reap(ctx, nil); err == nil {
			log.Info("left-over sandboxes deleted", "deleted", res.Deleted, "recent", res.Fresh)
			return
		}
	}
	log.Warn("could not look for left-over sandboxes; the pool deletes them after its cooldown", "err", err)
}

// serveHTTP serves the streamable HTTP transport at s.httpAddr under /mcp,
// refusing every request without the bearer secret.
func serveHTTP(ctx context.Context, s settings, server *mcp.Server, stderr io.Writer) error {
	ln, err := net.Listen("tcp", s.httpAddr)
	if err != nil {
		return err
	}
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{SessionTimeout: s.idle})
	mux := http.NewServeMux()
	mux.Handle("/mcp", requireBearer(s.secret, handler))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "mcp-server: serving MCP at http://%s/mcp (send Authorization: Bearer $SHELLPOOL_MCP_SECRET)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// requireBearer passes on only requests whose Authorization header is
// "Bearer <secret>" (the scheme in any case, the secret compared in
// constant time); others get 401.
func requireBearer(secret string, next http.Handler) http.Handler {
	want := []byte(secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="shellpool-mcp"`)
			http.Error(w, "missing or wrong bearer secret: send Authorization: Bearer <the server's SHELLPOOL_MCP_SECRET>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
