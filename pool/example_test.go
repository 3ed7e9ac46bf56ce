package pool_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/shellpool/shellpool/pool"
)

// Build the tutorial's shell pool and print its ARM template (deploy.json).
func ExampleNewTemplate() {
	p := pool.NewShellPool("myshellpool", "North Central US")
	deployJSON, err := pool.NewTemplate(p).Render()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(deployJSON))
	// Output:
	// {
	//     "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
	//     "contentVersion": "1.0.0.0",
	//     "resources": [
	//         {
	//             "apiVersion": "2025-02-02-preview",
	//             "name": "myshellpool",
	//             "type": "Microsoft.App/sessionPools",
	//             "location": "North Central US",
	//             "properties": {
	//                 "poolManagementType": "Dynamic",
	//                 "containerType": "Shell",
	//                 "scaleConfiguration": {
	//                     "maxConcurrentSessions": 5
	//                 },
	//                 "dynamicPoolConfiguration": {
	//                     "lifecycleConfiguration": {
	//                         "lifecycleType": "Timed",
	//                         "cooldownPeriodInSeconds": 300
	//                     }
	//                 },
	//                 "sessionNetworkConfiguration": {
	//                     "status": "EgressEnabled"
	//                 }
	//             }
	//         }
	//     ]
	// }
}

// Build the tutorial's shell pool and change one setting.
func ExampleNewShellPool() {
	p := pool.NewShellPool("myshellpool", "North Central US")
	p.Properties.ScaleConfiguration.MaxConcurrentSessions = to.Ptr[int32](10)
	if err := p.Validate(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Name, p.Properties.ContainerType, *p.Properties.ScaleConfiguration.MaxConcurrentSessions)
	// Output: myshellpool Shell 10
}

// Validate reports every problem at once, each with its field and rule.
func ExampleSessionPool_Validate() {
	p := pool.NewShellPool("my-shell-pool", "North Central US")
	p.Properties.DynamicPoolConfiguration.LifecycleConfiguration.CooldownPeriodInSeconds = to.Ptr[int32](60)
	err := p.Validate()
	var ve *pool.ValidationError
	if errors.As(err, &ve) {
		for _, problem := range ve.Problems {
			fmt.Println(problem.Field)
		}
	}
	fmt.Println(errors.Is(err, pool.ErrInvalidArgument))
	// Output:
	// name
	// properties.dynamicPoolConfiguration.lifecycleConfiguration.cooldownPeriodInSeconds
	// true
}

// Load the pools of an existing template, filling in its parameters.
func ExampleParseTemplate() {
	deployJSON := []byte(`{
	  "parameters": {"name": {"type": "String"}, "location": {"type": "String"}},
	  "resources": [{
	    "type": "Microsoft.App/sessionpools", "apiVersion": "2025-02-02-preview",
	    "name": "[parameters('name')]", "location": "[parameters('location')]",
	    "properties": {"containerType": "Shell", "poolManagementType": "Dynamic"}
	  }]
	}`)
	pools, err := pool.ParseTemplate(deployJSON, map[string]any{"name": "myshellpool", "location": "northcentralus"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pools[0].Name, pools[0].Location, pools[0].Properties.ContainerType)
	// Output: myshellpool northcentralus Shell
}

// The data-plane endpoint of a pool, for sessions.NewClient.
func ExampleSessionPool_Endpoint() {
	p := pool.NewShellPool("myshellpool", "North Central US")
	id, err := pool.ResourceID("00000000-0000-0000-0000-000000000000", "my-rg", p.Name)
	if err != nil {
		log.Fatal(err)
	}
	p.ID = id.String()
	fmt.Println(p.Endpoint())
	// Output: https://northcentralus.dynamicsessions.io/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg/sessionPools/myshellpool
}

// Add resources, such as those the identity package's
// ManagedIdentityResource returns, after the pools of a template. Keys the
// fields do not cover go in Extra.
func ExampleTemplate_AddResources() {
	t := pool.NewTemplate(pool.NewShellPool("myshellpool", "northcentralus"))
	err := t.AddResources(pool.TemplateResource{
		Type:       "Microsoft.ManagedIdentity/userAssignedIdentities",
		APIVersion: "2023-01-31",
		Name:       "myshellpool-uami",
		Location:   "northcentralus",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(t.Resources), t.Resources[0].Type)

	// A key that repeats a field is refused with the reason.
	err = t.AddResources(pool.TemplateResource{Type: "x/y", APIVersion: "1", Name: "n", Extra: map[string]any{"type": "z"}})
	fmt.Println(err)
	// Output:
	// 1 Microsoft.ManagedIdentity/userAssignedIdentities
	// pool: template is invalid (1 problem): resources[2].Extra["type"]: is a key TemplateResource renders from its own field (apiVersion, dependsOn, identity, location, name, properties, scope, tags, type); set the field instead; fix these fields and try again
}

// Create a shell pool in Azure and wait until it is ready. This example needs
// an Azure subscription, so it is compiled but not run.
func ExampleClient_BeginCreateOrUpdate() {
	ctx := context.Background()
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := pool.NewClient(os.Getenv("AZURE_SUBSCRIPTION_ID"), cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	poller, err := client.BeginCreateOrUpdate(ctx, "my-shell-session-rg", "myshellpool",
		*pool.NewShellPool("myshellpool", "northcentralus"), nil)
	if err != nil {
		log.Fatal(err)
	}
	created, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(created.Properties.ProvisioningState, created.Endpoint())
}

// Deploy a template, as `az deployment group create` does. This example needs
// an Azure subscription, so it is compiled but not run.
func ExampleClient_BeginDeploy() {
	ctx := context.Background()
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := pool.NewClient(os.Getenv("AZURE_SUBSCRIPTION_ID"), cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	template := &pool.Template{Pools: []*pool.SessionPool{pool.NewShellPool("", "")}, Parameterize: true}
	poller, err := client.BeginDeploy(ctx, "my-shell-session-rg", "", template, &pool.BeginDeployOptions{
		Parameters: map[string]any{"name": "myshellpool", "location": "northcentralus"}})
	if err != nil {
		log.Fatal(err)
	}
	deployment, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(deployment.Properties.ProvisioningState)
}

// Turn on the pool's MCP server (the MCP tutorial's pool).
func ExampleWithMCPServer() {
	p := pool.NewShellPool("myshellpool", "westus2", pool.WithMCPServer())
	deployJSON, err := pool.NewTemplate(p).Render()
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Resources []struct {
			Properties struct {
				MCPServerSettings json.RawMessage `json:"mcpServerSettings"`
			} `json:"properties"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(deployJSON, &doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(doc.Resources[0].Properties.MCPServerSettings))

	// A stable api-version has no MCP server: refused before anything is sent.
	_, err = (&pool.Template{Pools: []*pool.SessionPool{p}, APIVersion: "2026-01-01"}).Render()
	fmt.Println(errors.Is(err, pool.ErrInvalidArgument))
	// Output:
	// {
	//                     "isMcpServerEnabled": true
	//                 }
	// true
}

// The API key of a pool's MCP server never prints; Reveal returns it for the
// x-ms-apikey header.
func ExampleMCPAPIKey() {
	key := pool.NewMCPAPIKey("s3cr3t")
	fmt.Println(key)
	fmt.Printf("%+v %#v\n", pool.MCPServerCredential{APIKey: key}, key)
	b, _ := json.Marshal(pool.MCPServerCredential{APIKey: key})
	fmt.Println(string(b))
	fmt.Println(len(key.Reveal()))
	// Output:
	// REDACTED
	// {APIKey:REDACTED} pool.MCPAPIKey(REDACTED)
	// {"apiKey":"REDACTED"}
	// 6
}

// Fetch the key of a pool's MCP server and send it as the tutorial's curl
// does. This example needs an Azure subscription, so it is compiled but not
// run.
func ExampleClient_FetchMCPServerCredentials() {
	ctx := context.Background()
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := pool.NewClient(os.Getenv("AZURE_SUBSCRIPTION_ID"), cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	p, err := client.Get(ctx, "my-shell-session-rg", "myshellpool", nil)
	if err != nil {
		log.Fatal(err)
	}
	creds, err := client.FetchMCPServerCredentials(ctx, "my-shell-session-rg", "myshellpool", nil)
	if errors.Is(err, pool.ErrMCPServerNotEnabled) {
		log.Fatal("create the pool with pool.WithMCPServer() first")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.MCPEndpoint(), creds.APIKey) // the key prints as REDACTED
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.MCPEndpoint(),
		strings.NewReader(`{"jsonrpc": "2.0", "id": "1", "method": "initialize"}`))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-ms-apikey", creds.APIKey.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}
