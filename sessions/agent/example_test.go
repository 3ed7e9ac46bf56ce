package agent_test

import (
	"context"
	"fmt"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/agent"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// A tool_use block from Anthropic's Messages API, answered from a session
// of the emulator. Against Azure, the client comes from sessions.NewClient
// with the pool's endpoint and a credential.
func ExampleTools_Anthropic() {
	srv := sessionstest.NewServer(nil)
	defer srv.Close()
	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s := client.NewSessionClient(sessions.NewSessionID())
	defer s.Close(ctx)

	tools := &agent.Tools{Sandbox: agent.NewSessionSandbox(s)}
	for _, block := range []string{
		`{"type":"tool_use","id":"toolu_1","name":"bash","input":{"command":"cd /tmp && export GREETING=hello"}}`,
		`{"type":"tool_use","id":"toolu_2","name":"bash","input":{"command":"echo \"$GREETING from $PWD\""}}`,
		`{"type":"tool_use","id":"toolu_3","name":"str_replace_based_edit_tool","input":{"command":"view","path":"/etc/passwd"}}`,
	} {
		result, err := tools.Anthropic(ctx, []byte(block))
		if err != nil {
			panic(err)
		}
		fmt.Println(string(result))
	}
	// Output:
	// {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"(no output)"}]}
	// {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"hello from /tmp\n"}]}
	// {"type":"tool_result","tool_use_id":"toolu_3","content":[{"type":"text","text":"path \"/etc/passwd\" is outside /mnt/data, the only directory these tools may touch; use a path under /mnt/data, such as /mnt/data/passwd"}],"is_error":true}
}

// A shell_call item from OpenAI's Responses API: each command runs in the
// same persistent shell, and the answer is a shell_call_output item.
func ExampleTools_OpenAI() {
	srv := sessionstest.NewServer(nil)
	defer srv.Close()
	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s := client.NewSessionClient(sessions.NewSessionID())
	defer s.Close(ctx)

	tools := &agent.Tools{Sandbox: agent.NewSessionSandbox(s)}
	result, err := tools.OpenAI(ctx, []byte(`{"type":"shell_call","call_id":"call_1","action":{"commands":["cd /tmp","pwd","echo oops >&2; false"],"timeout_ms":10000,"max_output_length":1000}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(result))
	// Output:
	// {"type":"shell_call_output","call_id":"call_1","output":[{"stdout":"","stderr":"","outcome":{"type":"exit","exit_code":0}},{"stdout":"/tmp\n","stderr":"","outcome":{"type":"exit","exit_code":0}},{"stdout":"","stderr":"oops\n","outcome":{"type":"exit","exit_code":1}}],"max_output_length":1000}
}
