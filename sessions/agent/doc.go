// Package agent answers the tool calls that AI models make to a shell, in
// the exact JSON shapes of the model APIs, from one session of a shell
// session pool: the glue between an agent loop and a sandbox.
//
// Tools serves
//
//   - Anthropic's bash tool (type bash_20250124, name "bash"): input
//     {command, restart}, answered with a tool_result block;
//   - Anthropic's text editor tool (type text_editor_20250728, name
//     "str_replace_based_edit_tool"): view (with view_range), create,
//     str_replace (only when old_str occurs exactly once) and insert, on
//     files under /mnt/data;
//   - OpenAI's shell tool: a shell_call item whose action holds commands,
//     timeout_ms and max_output_length, answered with a shell_call_output
//     item whose outcomes are {type: exit, exit_code} or {type: timeout}.
//
// Tools.Anthropic and Tools.OpenAI take the tool call exactly as the model
// API sent it (a tool_use block, a shell_call item) and return the JSON
// result to send back; Tools.Bash, Tools.Edit and Tools.Shell are the same
// handlers on typed input. Every command runs in one persistent shell, so
// the working directory, variables and functions carry over between calls.
//
// Output longer than the caller's limit is cut and the result says so:
// the bash tool keeps the first Tools.MaxOutput bytes and appends a note;
// the shell tool keeps the beginning and end of each command's output
// within max_output_length characters (Tools.MaxOutput bytes when absent)
// with a note in place of the middle, and passes max_output_length back.
// Failures are results too: is_error on Anthropic's tool_result, and on
// OpenAI's outputs the exit codes ExitInvalidInput and ExitSandboxFailure
// with an explanation in stderr. Every message tells the model what to do
// next, and none carries the service's raw answer (Tools.OnError gets
// that). Input that is wrong (a missing field, a path outside /mnt/data, a
// view range outside the file) is refused before anything is sent.
//
// The handlers work through the small Sandbox interface: a persistent
// shell's Exec and Restart, and ReadFile, WriteFile and ListDir.
// NewSessionSandbox gives the Sandbox of a session: a persistent shell of
// package sessions/shell, opened on first use, and files read and written
// through package sessions/proc. Implement Sandbox yourself to serve the
// tools from something else, or to test your agent loop without a pool.
//
// # Example
//
//	s := client.NewSessionClient(sessions.NewSessionID())
//	defer s.Close(ctx) // deletes the session and everything in it
//	tools := &agent.Tools{Sandbox: agent.NewSessionSandbox(s)}
//	for _, block := range toolUseBlocks { // the model's tool_use blocks, as JSON
//		result, err := tools.Anthropic(ctx, block)
//		if err != nil {
//			return err // not a tool_use block
//		}
//		results = append(results, result) // tool_result blocks for the next user message
//	}
package agent
