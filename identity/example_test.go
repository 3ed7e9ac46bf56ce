package identity_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
)

func ExampleRoleDefinitionID() {
	fmt.Println(identity.RoleDefinitionID("00000000-0000-0000-0000-000000000000", identity.SessionExecutorRoleID))
	fmt.Println(identity.SameRoleDefinition(
		identity.SessionExecutorRoleDefinitionID("00000000-0000-0000-0000-000000000000"),
		"/providers/Microsoft.Authorization/roleDefinitions/0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0", // as the service answers
	))
	// Output:
	// /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0
	// true
}

func ExampleRoleAssignmentName() {
	pool := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.App/sessionPools/pool"
	principal := "11111111-1111-1111-1111-111111111111"
	// The name Client.AssignSessionExecutor gives the assignment: the same on
	// every call, so repeating it is idempotent.
	fmt.Println(identity.RoleAssignmentName(pool, principal, identity.SessionExecutorRoleDefinitionID("00000000-0000-0000-0000-000000000000")))
	// Output: 78e3d882-0f33-5f52-b113-08ea1a9098e2
}

// craftToken builds an unsigned JWT with the given claims, as a stand-in for
// an access token from Entra ID.
func craftToken(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + ".sig"
}

func ExampleInspectToken() {
	// The token `az account get-access-token` returns without --resource.
	raw := craftToken(map[string]any{
		"aud": "https://management.azure.com/",
		"oid": "11111111-1111-1111-1111-111111111111",
		"tid": "33333333-3333-3333-3333-333333333333",
		"exp": time.Now().Add(time.Hour).Unix(),
	})
	claims, err := identity.InspectToken(raw)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("audience:", claims.Audience)
	fmt.Println("object ID:", claims.ObjectID)

	err = claims.Check(sessions.Audience)
	fmt.Println("wrong audience:", errors.Is(err, identity.ErrWrongAudience))
	// Output:
	// audience: https://management.azure.com/
	// object ID: 11111111-1111-1111-1111-111111111111
	// wrong audience: true
}

func ExampleSessionExecutorAssignmentResource() {
	// Add these to a session pool template (pool.Template.AddResources): the
	// deployment then creates the identity and lets it use the pool.
	resources := []pool.TemplateResource{
		identity.ManagedIdentityResource("[parameters('identityName')]", "[parameters('location')]"),
		identity.SessionExecutorAssignmentResource("[parameters('name')]", "[parameters('identityName')]"),
	}
	b, _ := json.MarshalIndent(resources[1].Properties, "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "principalId": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName')), '2023-01-31').principalId]",
	//   "principalType": "ServicePrincipal",
	//   "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0')]"
	// }
}

// Add the identity and its Session Executor role assignment to a session
// pool template, so that one deployment (pool.Client.BeginDeploy) creates all
// three.
func ExampleManagedIdentityResource() {
	t := pool.NewTemplate(pool.NewShellPool("myshellpool", "northcentralus"))
	err := t.AddResources(
		identity.ManagedIdentityResource("myshellpool-uami", "northcentralus"),
		identity.SessionExecutorAssignmentResource("myshellpool", "myshellpool-uami"),
	)
	if err != nil {
		log.Fatal(err)
	}
	deployJSON, err := t.Render()
	if err != nil {
		log.Fatal(err)
	}
	var doc struct{ Resources []struct{ Type, Name string } }
	if err := json.Unmarshal(deployJSON, &doc); err != nil {
		log.Fatal(err)
	}
	for _, r := range doc.Resources {
		fmt.Println(r.Type)
	}
	// Output:
	// Microsoft.App/sessionPools
	// Microsoft.ManagedIdentity/userAssignedIdentities
	// Microsoft.Authorization/roleAssignments
}

// This example needs Azure: it gets a token for the dynamic sessions data
// plane (the tutorial's "Get a bearer token" step) and checks it.
func ExampleGetToken() {
	// In a Container App with a user-assigned identity, set its client ID;
	// on a developer machine leave it empty to use the Azure CLI login.
	cred, err := identity.NewCredential(&identity.CredentialOptions{ClientID: os.Getenv("SHELLPOOL_IDENTITY_CLIENT_ID")})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := identity.GetToken(context.TODO(), cred, sessions.Audience, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := tok.Check(); err != nil {
		log.Fatal(err) // explains a 401 before it happens
	}
	fmt.Println(tok) // prints audience and expiry; the value is REDACTED
	req, _ := http.NewRequest(http.MethodGet, "https://example.invalid", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Value())
}

// This example needs Azure: the tutorial's identity steps in three calls.
func ExampleClient_AssignSessionExecutor() {
	sub := os.Getenv("AZURE_SUBSCRIPTION_ID")
	cred, err := identity.NewCredential(nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := identity.NewClient(sub, cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	id, err := client.CreateOrUpdateIdentity(ctx, "my-rg", "myshellpool-uami", "eastus", nil)
	if err != nil {
		log.Fatal(err)
	}
	poolID := "/subscriptions/" + sub + "/resourceGroups/my-rg/providers/Microsoft.App/sessionPools/myshellpool"
	// Retries PrincipalNotFound while the new identity replicates.
	ra, err := client.AssignSessionExecutor(ctx, poolID, id.PrincipalID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("assigned:", ra.Name, "client ID for the app:", id.ClientID)

	// Verify role assignment.
	pager := client.NewListRoleAssignmentsPager(poolID, &identity.ListRoleAssignmentsOptions{PrincipalID: id.PrincipalID})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, a := range page.Value {
			fmt.Println(a.Name, identity.SameRoleDefinition(a.RoleDefinitionID, identity.SessionExecutorRoleID))
		}
	}
}
