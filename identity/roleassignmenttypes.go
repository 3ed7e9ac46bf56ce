package identity

import (
	"encoding/json"
	"time"
)

// PrincipalType is the kind of principal a role assignment is for.
type PrincipalType string

const (
	// PrincipalTypeServicePrincipal is a service principal, including managed
	// identities. AssignRole sends it by default: ARM then skips the directory
	// lookup that fails with PrincipalNotFound for a just-created identity.
	PrincipalTypeServicePrincipal PrincipalType = "ServicePrincipal"
	// PrincipalTypeUser is a user.
	PrincipalTypeUser PrincipalType = "User"
	// PrincipalTypeGroup is a security group.
	PrincipalTypeGroup PrincipalType = "Group"
	// PrincipalTypeForeignGroup is a group from another tenant.
	PrincipalTypeForeignGroup PrincipalType = "ForeignGroup"
	// PrincipalTypeDevice is a device.
	PrincipalTypeDevice PrincipalType = "Device"
)

// PossiblePrincipalTypeValues returns every PrincipalType the service defines.
func PossiblePrincipalTypeValues() []PrincipalType {
	return []PrincipalType{PrincipalTypeServicePrincipal, PrincipalTypeUser, PrincipalTypeGroup, PrincipalTypeForeignGroup, PrincipalTypeDevice}
}

// RoleAssignment grants a principal a role at a scope.
type RoleAssignment struct {
	// ID is the resource ID: {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
	ID string
	// Name is the assignment's GUID name.
	Name string
	// Type is the resource type, RoleAssignmentResourceType.
	Type string
	// Scope is where the role applies, such as a session pool's resource ID.
	Scope string
	// RoleDefinitionID is the role's definition ID. The service may answer
	// with another prefix than was sent; compare with SameRoleDefinition.
	RoleDefinitionID string
	// PrincipalID is the object ID of the principal.
	PrincipalID string
	// PrincipalType is the kind of principal.
	PrincipalType PrincipalType
	// Description is a free-text description.
	Description string
	// Condition is the assignment's ABAC condition, when set.
	Condition string
	// ConditionVersion is the version of Condition's language ("2.0").
	ConditionVersion string
	// CreatedOn is when the assignment was created (set by the service; zero
	// when absent).
	CreatedOn time.Time
	// UpdatedOn is when the assignment last changed (set by the service; zero
	// when absent).
	UpdatedOn time.Time
	// CreatedBy is the object ID of the principal that created the assignment.
	CreatedBy string
	// UpdatedBy is the object ID of the principal that last changed it.
	UpdatedBy string
}

type roleAssignmentProps struct {
	Scope            string        `json:"scope,omitempty"`
	RoleDefinitionID string        `json:"roleDefinitionId,omitempty"`
	PrincipalID      string        `json:"principalId,omitempty"`
	PrincipalType    PrincipalType `json:"principalType,omitempty"`
	Description      string        `json:"description,omitempty"`
	Condition        string        `json:"condition,omitempty"`
	ConditionVersion string        `json:"conditionVersion,omitempty"`
	CreatedOn        *time.Time    `json:"createdOn,omitempty"`
	UpdatedOn        *time.Time    `json:"updatedOn,omitempty"`
	CreatedBy        string        `json:"createdBy,omitempty"`
	UpdatedBy        string        `json:"updatedBy,omitempty"`
}

type roleAssignmentWire struct {
	ID         string              `json:"id,omitempty"`
	Name       string              `json:"name,omitempty"`
	Type       string              `json:"type,omitempty"`
	Properties roleAssignmentProps `json:"properties"`
}

// UnmarshalJSON decodes the ARM resource body.
func (r *RoleAssignment) UnmarshalJSON(b []byte) error {
	var w roleAssignmentWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p := w.Properties
	*r = RoleAssignment{
		ID: w.ID, Name: w.Name, Type: w.Type, Scope: p.Scope, RoleDefinitionID: p.RoleDefinitionID,
		PrincipalID: p.PrincipalID, PrincipalType: p.PrincipalType, Description: p.Description,
		Condition: p.Condition, ConditionVersion: p.ConditionVersion, CreatedBy: p.CreatedBy, UpdatedBy: p.UpdatedBy,
	}
	if p.CreatedOn != nil {
		r.CreatedOn = *p.CreatedOn
	}
	if p.UpdatedOn != nil {
		r.UpdatedOn = *p.UpdatedOn
	}
	return nil
}

// AssignRoleOptions contains the optional parameters for Client.AssignRole
// and Client.AssignSessionExecutor.
type AssignRoleOptions struct {
	// Name overrides the assignment's name (a GUID). By default it is
	// RoleAssignmentName(scope, principalID, roleDefinitionID), so repeating
	// the call is idempotent.
	Name string
	// PrincipalType defaults to PrincipalTypeServicePrincipal, right for
	// managed identities and applications. Set PrincipalTypeUser or
	// PrincipalTypeGroup for people and groups.
	PrincipalType PrincipalType
	// Description is stored with the assignment.
	Description string
	// Condition sets an ABAC condition on the assignment.
	Condition string
	// ConditionVersion is the version of Condition's language ("2.0").
	ConditionVersion string
	// RetryDelay is the first wait after PrincipalNotFound; it doubles after
	// each attempt up to MaxRetryDelay. Zero means 2s.
	RetryDelay time.Duration
	// MaxRetryDelay caps the wait between PrincipalNotFound retries. Zero
	// means 30s.
	MaxRetryDelay time.Duration
	// PrincipalNotFoundTimeout bounds how long PrincipalNotFound is retried,
	// from the first attempt; the call then returns a *ServiceError even if
	// ctx has no deadline. Zero means DefaultPrincipalNotFoundTimeout (five
	// minutes). Set it higher to wait longer for directory replication, or
	// lower to fail fast.
	PrincipalNotFoundTimeout time.Duration
}

// AssignRoleResponse is the result of Client.AssignRole and Client.AssignSessionExecutor.
type AssignRoleResponse struct {
	RoleAssignment
	// Existing is true when the service answered RoleAssignmentExists (409)
	// and RoleAssignment is the assignment that was already there, possibly
	// under another name.
	Existing bool
	// Attempts is the number of PUT requests sent: more than 1 when
	// PrincipalNotFound was retried.
	Attempts int
}

// GetRoleAssignmentOptions contains the optional parameters for Client.GetRoleAssignment.
type GetRoleAssignmentOptions struct {
	// placeholder for future options
}

// GetRoleAssignmentResponse is the result of Client.GetRoleAssignment.
type GetRoleAssignmentResponse struct {
	RoleAssignment
}

// DeleteRoleAssignmentOptions contains the optional parameters for Client.DeleteRoleAssignment.
type DeleteRoleAssignmentOptions struct {
	// placeholder for future options
}

// DeleteRoleAssignmentResponse is the result of Client.DeleteRoleAssignment.
type DeleteRoleAssignmentResponse struct {
	// RoleAssignment is the deleted assignment (200); zero when there was
	// nothing to delete (204).
	RoleAssignment
	// Existed is false when there was nothing to delete (204).
	Existed bool
}

// ListRoleAssignmentsOptions contains the optional parameters for
// Client.NewListRoleAssignmentsPager. Without any, the service lists the
// assignments at the scope, above it (inherited) and below it.
type ListRoleAssignmentsOptions struct {
	// PrincipalID lists only the assignments of this principal
	// ($filter=principalId eq '...').
	PrincipalID string
	// AtScope lists only assignments at the scope and above it
	// ($filter=atScope()).
	AtScope bool
	// Filter is a raw $filter expression, joined to the others with "and".
	Filter string
}

// ListRoleAssignmentsResponse is one page of Client.NewListRoleAssignmentsPager.
type ListRoleAssignmentsResponse struct {
	// Value holds the page's role assignments.
	Value []*RoleAssignment `json:"value"`
	// NextLink is the URL of the next page; nil on the last page.
	NextLink *string `json:"nextLink,omitempty"`
}
