package pool

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/shellpool/shellpool/internal/armx"
	"github.com/shellpool/shellpool/internal/azname"
)

// Deployment is a Microsoft.Resources/deployments resource: one deployment
// of a template into a resource group.
type Deployment struct {
	// ID is the deployment's resource ID.
	ID string `json:"id,omitempty"`
	// Name is the deployment's name.
	Name string `json:"name,omitempty"`
	// Type is "Microsoft.Resources/deployments".
	Type string `json:"type,omitempty"`
	// Properties holds the deployment's state and results.
	Properties *DeploymentProperties `json:"properties,omitempty"`
}

// DeploymentProperties holds the state and results of a deployment.
type DeploymentProperties struct {
	// ProvisioningState is e.g. Accepted, Running, Succeeded, Failed or Canceled.
	ProvisioningState string `json:"provisioningState,omitempty"`
	// CorrelationID identifies the deployment's operations in Azure's logs;
	// quote it when you ask for support.
	CorrelationID string `json:"correlationId,omitempty"`
	// Timestamp is when the deployment last changed (RFC 3339).
	Timestamp string `json:"timestamp,omitempty"`
	// Duration is how long the deployment ran (ISO 8601 duration).
	Duration string `json:"duration,omitempty"`
	// Mode is Incremental or Complete.
	Mode DeploymentMode `json:"mode,omitempty"`
	// Outputs are the template's outputs, each {"type": ..., "value": ...}.
	Outputs map[string]any `json:"outputs,omitempty"`
	// OutputResources are the resources the deployment created or changed.
	OutputResources []ResourceReference `json:"outputResources,omitempty"`
	// Parameters are the parameters the deployment used.
	Parameters map[string]any `json:"parameters,omitempty"`
	// TemplateHash is the hash of the deployed template.
	TemplateHash string `json:"templateHash,omitempty"`
	// Error explains a failed deployment.
	Error *ErrorDetail `json:"error,omitempty"`
}

// ResourceReference names a resource by ID.
type ResourceReference struct {
	// ID is the resource's ID.
	ID string `json:"id,omitempty"`
}

// ErrorDetail is an ARM error: a code, a message and nested details (a
// failed deployment reports one detail per failed resource).
type ErrorDetail struct {
	// Code is the machine-readable error code, e.g. "InvalidTemplate".
	Code string `json:"code,omitempty"`
	// Message explains the error.
	Message string `json:"message,omitempty"`
	// Target is the field or resource the error is about.
	Target string `json:"target,omitempty"`
	// Details are the underlying errors.
	Details []ErrorDetail `json:"details,omitempty"`
	// AdditionalInfo holds extra, typed information.
	AdditionalInfo []ErrorAdditionalInfo `json:"additionalInfo,omitempty"`
}

// ErrorAdditionalInfo is extra information attached to an ARM error.
type ErrorAdditionalInfo struct {
	// Type is the kind of information.
	Type string `json:"type,omitempty"`
	// Info is the information.
	Info any `json:"info,omitempty"`
}

// String renders the error and its details on one line:
// "Code: message (details: Code: message; ...)".
func (e *ErrorDetail) String() string {
	if e == nil {
		return ""
	}
	s := e.Code + ": " + e.Message
	if e.Target != "" {
		s += " (target " + e.Target + ")"
	}
	if len(e.Details) > 0 {
		s += " (details: "
		for i := range e.Details {
			if i > 0 {
				s += "; "
			}
			s += e.Details[i].String()
		}
		s += ")"
	}
	return s
}

// BeginDeployOptions contains the optional parameters for Client.BeginDeploy.
type BeginDeployOptions struct {
	// ResumeToken resumes a poller from Poller.ResumeToken; the other
	// arguments are then ignored.
	ResumeToken string
	// Parameters are the template's parameter values as plain values; each
	// is sent as {"value": v}.
	Parameters map[string]any
	// Mode is the deployment mode; empty means DeploymentModeIncremental.
	Mode DeploymentMode
	// APIVersion overrides the Microsoft.Resources api-version for this call.
	APIVersion string
}

// DeployResponse is the result of Client.BeginDeploy.
type DeployResponse struct {
	Deployment
}

var deploymentNameRE = regexp.MustCompile(`^[-\w.()]{1,64}$`)

// validDeploymentName applies ARM's deployment name rule (1-64 letters,
// digits, '-', '_', '.', '(' and ')') and refuses "." and "..", which the
// rule allows but which would change the request path.
func validDeploymentName(name string) bool {
	return deploymentNameRE.MatchString(name) && azname.SegmentRule(name) == ""
}

// NewDeploymentName returns a unique deployment name,
// "shellpool-<UTC timestamp>-<random hex>". Deployment names are the keys of
// a resource group's deployment history, and concurrent deployments with one
// name cancel each other, so each deployment should get its own.
func NewDeploymentName() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "shellpool-" + time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// BeginDeploy renders template (validating it as Template.Render does) and
// deploys it into resourceGroup (PUT Microsoft.Resources/deployments, mode
// Incremental unless options say otherwise), returning a poller that follows
// the deployment to its end. name "" picks a unique name
// (NewDeploymentName); options.Parameters are the template's parameters.
// Invalid input returns an error matching ErrInvalidArgument and sends
// nothing. A failed deployment gives an *azcore.ResponseError whose
// ErrorCode is ARM's (e.g. "DeploymentFailed"); GetDeployment has the details.
func (c *Client) BeginDeploy(ctx context.Context, resourceGroup, name string, template *Template, options *BeginDeployOptions) (*runtime.Poller[DeployResponse], error) {
	if options != nil && options.ResumeToken != "" {
		return resume[DeployResponse](c.resTracer, c, options.ResumeToken)
	}
	if template == nil {
		return nil, argErr("template", "is nil; pass a *pool.Template (NewTemplate), or use BeginDeployJSON for a JSON document")
	}
	doc, err := template.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return c.deploy(ctx, resourceGroup, name, doc, options)
}

// BeginDeployJSON is BeginDeploy for a template given as a JSON document,
// such as a deploy.json file read from disk. Comments are stripped, as in
// ParseTemplate; a document that is not a JSON object is refused with an
// *ArgumentError before anything is sent.
func (c *Client) BeginDeployJSON(ctx context.Context, resourceGroup, name string, template json.RawMessage, options *BeginDeployOptions) (*runtime.Poller[DeployResponse], error) {
	if options != nil && options.ResumeToken != "" {
		return resume[DeployResponse](c.resTracer, c, options.ResumeToken)
	}
	trimmed := bytes.TrimSpace(stripComments(template))
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, argErr("template", "is not a JSON object; check the file (ParseTemplate reports where it breaks)")
	}
	return c.deploy(ctx, resourceGroup, name, json.RawMessage(trimmed), options)
}

// deploy sends a rendered template document as a deployment.
func (c *Client) deploy(ctx context.Context, resourceGroup, name string, doc json.RawMessage, options *BeginDeployOptions) (p *runtime.Poller[DeployResponse], err error) {
	if options == nil {
		options = &BeginDeployOptions{}
	}
	ctx, end := c.startResSpan(ctx, "BeginDeploy")
	defer func() { end(err) }()
	if err := checkGroup(resourceGroup); err != nil {
		return nil, err
	}
	if name == "" {
		name = NewDeploymentName()
	}
	if !validDeploymentName(name) {
		return nil, invalidArg("deployment name", name, `must be 1-64 letters, digits, '-', '_', '.', '(' or ')'; or pass "" for a unique name`)
	}
	mode := options.Mode
	if mode == "" {
		mode = DeploymentModeIncremental
	}
	body := deploymentBody{Properties: deploymentBodyProperties{Mode: mode, Template: doc}}
	if len(options.Parameters) > 0 {
		body.Properties.Parameters = make(map[string]parameterValue, len(options.Parameters))
		for k, v := range options.Parameters {
			body.Properties.Parameters[k] = parameterValue{Value: v}
		}
	}
	return begin[DeployResponse](ctx, c, c.resTracer, armx.Request{Method: http.MethodPut, URL: c.deploymentURL(resourceGroup, name), APIVersion: c.resourcesVersion(options.APIVersion), Body: body, OK: []int{http.StatusOK, http.StatusCreated}}, runtime.FinalStateViaAzureAsyncOp)
}

// GetDeploymentOptions contains the optional parameters for Client.GetDeployment.
type GetDeploymentOptions struct {
	// APIVersion overrides the Microsoft.Resources api-version for this call.
	APIVersion string
}

// GetDeploymentResponse is the result of Client.GetDeployment.
type GetDeploymentResponse struct {
	Deployment
}

// GetDeployment reads a deployment: its provisioning state, outputs and, for
// a failed deployment, the error with per-resource details
// (Properties.Error).
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) GetDeployment(ctx context.Context, resourceGroup, name string, options *GetDeploymentOptions) (res GetDeploymentResponse, err error) {
	if options == nil {
		options = &GetDeploymentOptions{}
	}
	ctx, end := c.startResSpan(ctx, "GetDeployment")
	defer func() { end(err) }()
	if err := checkGroup(resourceGroup); err != nil {
		return res, err
	}
	if !validDeploymentName(name) {
		return res, invalidArg("deployment name", name, "must be 1-64 letters, digits, '-', '_', '.', '(' or ')', and not \".\" or \"..\"")
	}
	d, _, err := armx.Do[Deployment](ctx, c.pl, armx.Request{Method: http.MethodGet, URL: c.deploymentURL(resourceGroup, name), APIVersion: c.resourcesVersion(options.APIVersion), OK: []int{http.StatusOK}})
	return GetDeploymentResponse{Deployment: d}, err
}

func (c *Client) resourcesVersion(override string) string {
	if override != "" {
		return override
	}
	return c.resAPIVersion
}

// deploymentURL follows the Microsoft.Resources specification's spelling
// ("resourcegroups"); ARM matches path segments case-insensitively.
func (c *Client) deploymentURL(resourceGroup, name string) string {
	return armx.URL(c.endpoint, "/subscriptions/"+armx.Segment(c.subscriptionID)+"/resourcegroups/"+
		armx.Segment(resourceGroup)+"/providers/Microsoft.Resources/deployments/"+armx.Segment(name))
}

type deploymentBody struct {
	Properties deploymentBodyProperties `json:"properties"`
}

type deploymentBodyProperties struct {
	Mode       DeploymentMode            `json:"mode"`
	Template   json.RawMessage           `json:"template"`
	Parameters map[string]parameterValue `json:"parameters,omitempty"`
}

type parameterValue struct {
	Value any `json:"value"`
}
