package sessionstest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/armemu"
)

// The pool's platform-managed MCP server (docs/API.md §1.11): JSON-RPC 2.0
// over HTTP POST at {pool endpoint}/mcp, authenticated with the x-ms-apikey
// header (the key of the ARM action fetchMcpServerCredentials) unless the
// pool disables it, with two tools: launchShell, which returns an
// environmentId, and runShellCommandInRemoteEnvironment, which runs a
// shellCommand or an execCommandAndArgs array in that environment. Each
// environment is a session of the pool; its commands run as executions do,
// with the same 4,096-byte cap on each output stream.
//
// What the tutorial shows is followed exactly: protocolVersion 2025-03-26,
// serverInfo.name "Microsoft Container Apps MCP Server", capabilities.tools
// {"call": true, "list": true}, result.structuredContent.environmentId and
// the stdout field. The rest is the emulator's choice where no public source
// says what the service does [UNVERIFIED]: the server version, the tools'
// descriptions and input schemas, the stderr and exitCode fields beside
// stdout, the JSON-RPC error codes and messages (those of the JSON-RPC 2.0
// specification, as MCP servers use them), the 401 and
// SessionMCPServerNotEnabled bodies (Azure's error shape, with the ARM
// action's message), and that an environmentId works only with the pool and
// key that launched it.

const (
	// MCPProtocolVersion is the MCP protocol version the pool's MCP server
	// reports in its initialize result (the tutorial's 2025-03-26).
	MCPProtocolVersion = "2025-03-26"
	// MCPServerName is the serverInfo.name of the pool's MCP server.
	MCPServerName = "Microsoft Container Apps MCP Server"
	// MaxMCPRequestBytes is the largest JSON-RPC request body the MCP
	// endpoint reads; a larger one is answered with 413 and a JSON-RPC
	// Invalid Request error, and nothing runs.
	MaxMCPRequestBytes = 1 << 20
)

// mcpServerVersion is serverInfo.version (not documented).
const mcpServerVersion = "1.0.0"

// JSON-RPC 2.0 error codes.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
	rpcInternalError  = -32603
)

// isMCPRoute reports whether a data-plane request is for the pool's MCP
// endpoint. serveHTTP leaves such bodies unread: serveMCP reads them with
// its own limit and answers in JSON-RPC.
func isMCPRoute(rt route) bool {
	return rt.dataPlane && len(rt.segs) == 1 && strings.EqualFold(rt.segs[0], "mcp")
}

// serveMCP answers a request to a pool's /mcp endpoint.
func (s *Server) serveMCP(w http.ResponseWriter, r *http.Request, rt route) {
	var sp armemu.PoolSpec
	var ok bool
	if rt.sub == "" {
		sp, ok = s.engine.PoolNamed(s.opts.SubscriptionID, s.opts.ResourceGroup, rt.poolName)
	} else {
		sp, ok = s.engine.Pool(rt.sub, rt.rg, rt.poolName)
	}
	if !ok {
		where := "in this emulator"
		if rt.sub != "" {
			where = "in resource group " + rt.rg
		}
		writePoolNotFound(w, rt.poolName, where)
		return
	}
	if !sp.MCPServerEnabled {
		// The ARM credential actions' answer for such a pool.
		writeError(w, http.StatusBadRequest, "SessionMCPServerNotEnabled", fmt.Sprintf(
			"Session pool '%s' does not have MCP Server enabled. Enable it with properties.mcpServerSettings.isMcpServerEnabled (api-version 2025-02-02-preview or 2025-10-02-preview).", sp.Name))
		return
	}
	if !sp.MCPServerAPIKeyDisabled {
		got := r.Header.Get("x-ms-apikey")
		switch {
		case got == "":
			writeError(w, http.StatusUnauthorized, "Unauthorized", "the x-ms-apikey header is missing; send the key that the ARM action fetchMcpServerCredentials returns")
			return
		case subtle.ConstantTimeCompare([]byte(got), []byte(sp.MCPServerAPIKey)) != 1:
			writeError(w, http.StatusUnauthorized, "Unauthorized", "the x-ms-apikey header does not hold the pool's current MCP key; fetch it again with fetchMcpServerCredentials (rotateMcpServerCredentials replaces it)")
			return
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the MCP endpoint takes JSON-RPC requests by POST only")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxMCPRequestBytes+1))
	if err != nil {
		writeRPCError(w, http.StatusBadRequest, nil, rpcParseError, "Parse error: reading the request body failed")
		return
	}
	if len(body) > MaxMCPRequestBytes {
		writeRPCError(w, http.StatusRequestEntityTooLarge, nil, rpcInvalidRequest,
			fmt.Sprintf("Invalid Request: the body is larger than %d bytes", MaxMCPRequestBytes))
		return
	}
	s.handleRPC(w, r, sp, body)
}

// rpcRequest is one JSON-RPC request; ID is absent for a notification.
type rpcRequest struct {
	ID     json.RawMessage
	Method string
	Params json.RawMessage
}

// parseRPC checks a body against JSON-RPC 2.0 and returns the request, or
// the error to answer with.
func parseRPC(body []byte) (rpcRequest, int, string) {
	var req rpcRequest
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if !json.Valid(trimmed) {
			return req, rpcParseError, "Parse error: the body is not valid JSON"
		}
		return req, rpcInvalidRequest, "Invalid Request: batches are not supported; send one JSON-RPC request per POST"
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		if json.Valid(trimmed) {
			return req, rpcInvalidRequest, "Invalid Request: a request must be a JSON object"
		}
		return req, rpcParseError, "Parse error: the body is not valid JSON"
	}
	var version string
	if err := json.Unmarshal(raw["jsonrpc"], &version); err != nil || version != "2.0" {
		return req, rpcInvalidRequest, `Invalid Request: "jsonrpc" must be "2.0"`
	}
	if id, ok := raw["id"]; ok {
		var v any
		_ = json.Unmarshal(id, &v)
		switch v.(type) {
		case string, float64:
			req.ID = id
		default:
			return req, rpcInvalidRequest, `Invalid Request: "id" must be a string or a number`
		}
	}
	if err := json.Unmarshal(raw["method"], &req.Method); err != nil || req.Method == "" {
		return req, rpcInvalidRequest, `Invalid Request: "method" must be a non-empty string`
	}
	req.Params = raw["params"]
	return req, 0, ""
}

func (s *Server) handleRPC(w http.ResponseWriter, r *http.Request, sp armemu.PoolSpec, body []byte) {
	req, code, msg := parseRPC(body)
	if code != 0 {
		writeRPCError(w, http.StatusBadRequest, nil, code, msg)
		return
	}
	if req.ID == nil {
		// A notification (notifications/initialized, ...): no answer.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	var result any
	var rerr *rpcError
	switch req.Method {
	case "initialize":
		result = map[string]any{
			"protocolVersion": MCPProtocolVersion,
			"capabilities":    map[string]any{"tools": map[string]any{"call": true, "list": true}},
			"serverInfo":      map[string]any{"name": MCPServerName, "version": mcpServerVersion},
		}
	case "ping":
		result = map[string]any{}
	case "tools/list":
		result = map[string]any{"tools": mcpTools}
	case "tools/call":
		result, rerr = s.callTool(r.Context(), r, sp, req.Params)
	default:
		rerr = &rpcError{rpcMethodNotFound, fmt.Sprintf("Method not found: %q; the server has initialize, ping, tools/list and tools/call", req.Method)}
	}
	if rerr != nil {
		writeRPCError(w, http.StatusOK, req.ID, rerr.Code, rerr.Message)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	writeJSON(w, status, map[string]any{"jsonrpc": "2.0", "id": id, "error": rpcError{code, msg}})
}

const (
	toolLaunchShell = "launchShell"
	toolRunCommand  = "runShellCommandInRemoteEnvironment"
)

// mcpTools is the tools/list answer.
var mcpTools = []map[string]any{
	{
		"name":        toolLaunchShell,
		"description": "Creates a new shell environment and returns its environmentId.",
		"inputSchema": map[string]any{"type": "object", "properties": map[string]any{}},
	},
	{
		"name":        toolRunCommand,
		"description": "Executes a shell command in an existing environment: a shellCommand string, or an execCommandAndArgs array (the executable and its arguments). Output is in stdout.",
		"inputSchema": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"environmentId":      map[string]any{"type": "string", "description": "The environmentId that launchShell returned."},
				"shellCommand":       map[string]any{"type": "string", "description": "A shell command line, run by bash."},
				"execCommandAndArgs": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "The executable and its arguments, run without a shell."},
			},
			"required": []string{"environmentId"},
		},
	},
}

// callTool answers tools/call.
func (s *Server) callTool(ctx context.Context, r *http.Request, sp armemu.PoolSpec, params json.RawMessage) (any, *rpcError) {
	var call struct {
		Name      string                     `json:"name"`
		Arguments map[string]json.RawMessage `json:"arguments"`
	}
	if len(params) == 0 || string(params) == "null" || json.Unmarshal(params, &call) != nil {
		return nil, &rpcError{rpcInvalidParams, `Invalid params: tools/call needs params {"name": ..., "arguments": {...}}`}
	}
	key := ""
	if !sp.MCPServerAPIKeyDisabled {
		key = r.Header.Get("x-ms-apikey")
	}
	switch call.Name {
	case "":
		return nil, &rpcError{rpcInvalidParams, "Invalid params: the tool name is missing"}
	case toolLaunchShell:
		return s.launchShell(sp, key)
	case toolRunCommand:
		return s.runShellCommand(ctx, sp, key, call.Arguments)
	default:
		return nil, &rpcError{rpcInvalidParams, fmt.Sprintf("Invalid params: unknown tool %q; the tools are %s and %s", call.Name, toolLaunchShell, toolRunCommand)}
	}
}

// environmentID returns the environmentId of a session: the session
// identifier and a MAC that binds it to the pool (by its serial) and to the
// key that launched it, so that another pool, or a caller with another key,
// cannot use it.
func (s *Server) environmentID(sp armemu.PoolSpec, key, sessionID string) string {
	return sessionID + "." + s.environmentMAC(sp, key, sessionID)
}

func (s *Server) environmentMAC(sp armemu.PoolSpec, key, sessionID string) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "mcp-environment\x00%d\x00%s\x00%s", sp.Serial, key, sessionID)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// sessionOf returns the session identifier of an environmentId launched in
// this pool with this key, or "".
func (s *Server) sessionOf(sp armemu.PoolSpec, key, envID string) string {
	sid, mac, ok := strings.Cut(envID, ".")
	if !ok || uuid.Validate(sid) != nil {
		return ""
	}
	if !hmac.Equal([]byte(mac), []byte(s.environmentMAC(sp, key, sid))) {
		return ""
	}
	return sid
}

func (s *Server) launchShell(sp armemu.PoolSpec, key string) (any, *rpcError) {
	p := s.served(sp, true)
	if !strings.EqualFold(p.spec.ContainerType, ContainerTypeShell) {
		return toolError(fmt.Sprintf("the emulator serves shells for Shell pools only; pool %q has containerType %s", sp.Name, sp.ContainerType)), nil
	}
	sid := uuid.NewString()
	ss, err := s.lockSession(p, sid) // holds s.mu on success
	if err != nil {
		return toolError(allocMessage(p, err)), nil
	}
	ss.lastAccessed = s.opts.Now().UTC()
	s.mu.Unlock()
	env := s.environmentID(sp, key, sid)
	return map[string]any{
		"content":           []any{map[string]any{"type": "text", "text": `{"environmentId":"` + env + `"}`}},
		"structuredContent": map[string]any{"environmentId": env},
		"isError":           false,
	}, nil
}

func allocMessage(p *pool, err error) string {
	switch {
	case errors.Is(err, errCapacity):
		return fmt.Sprintf("session pool %q has reached maxConcurrentSessions (%d) and launches no new shells; wait for idle shells to expire or raise maxConcurrentSessions", p.spec.Name, p.spec.MaxConcurrentSessions)
	case errors.Is(err, errPoolRemoved):
		return fmt.Sprintf("session pool %q was deleted", p.spec.Name)
	}
	return "the emulator could not launch a shell: " + err.Error()
}

func toolError(msg string) map[string]any {
	return map[string]any{"content": []any{map[string]any{"type": "text", "text": msg}}, "isError": true}
}

func (s *Server) runShellCommand(ctx context.Context, sp armemu.PoolSpec, key string, args map[string]json.RawMessage) (any, *rpcError) {
	var envID string
	if raw, ok := args["environmentId"]; !ok || json.Unmarshal(raw, &envID) != nil || envID == "" {
		return nil, &rpcError{rpcInvalidParams, "Invalid params: environmentId (a string) is required; call launchShell to get one"}
	}
	sid := s.sessionOf(sp, key, envID)
	if sid == "" {
		return nil, &rpcError{rpcInvalidParams, "Invalid params: unknown environmentId for this pool and key; call launchShell to get one"}
	}
	// The command, checked and given its defaults (timeout, the 4,096-byte
	// output cap) as an execution request body is.
	body := map[string]json.RawMessage{}
	for _, k := range []string{"shellCommand", "execCommandAndArgs"} {
		if v, ok := args[k]; ok && string(v) != "null" {
			body[k] = v
		}
	}
	switch len(body) {
	case 0:
		return nil, &rpcError{rpcInvalidParams, "Invalid params: send shellCommand (a string) or execCommandAndArgs (an array of strings)"}
	case 2:
		return nil, &rpcError{rpcInvalidParams, "Invalid params: send only one of shellCommand and execCommandAndArgs"}
	}
	if v, ok := body["shellCommand"]; ok {
		var sc string
		if json.Unmarshal(v, &sc) != nil {
			return nil, &rpcError{rpcInvalidParams, "Invalid params: shellCommand must be a string"}
		}
	}
	if v, ok := body["execCommandAndArgs"]; ok {
		var argv []string
		if json.Unmarshal(v, &argv) != nil {
			return nil, &rpcError{rpcInvalidParams, "Invalid params: execCommandAndArgs must be an array of strings"}
		}
	}
	b, _ := json.Marshal(body)
	p := s.served(sp, true)
	req, _, msg := s.parseExec(b, p)
	if msg != "" {
		return nil, &rpcError{rpcInvalidParams, "Invalid params: " + msg}
	}
	if !strings.EqualFold(p.spec.ContainerType, ContainerTypeShell) {
		return toolError(fmt.Sprintf("the emulator runs commands for Shell pools only; pool %q has containerType %s", sp.Name, sp.ContainerType)), nil
	}
	res, err := s.executeInSession(ctx, p, sid, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &rpcError{rpcInternalError, "the request ended before the command finished"}
		}
		return toolError(allocMessage(p, err)), nil
	}
	exit := 0
	if n, err := strconv.Atoi(res.Status); err == nil {
		exit = n
	}
	out := map[string]any{"stdout": "", "stderr": "", "exitCode": exit}
	if res.Result != nil {
		out["stdout"], out["stderr"] = res.Result.Stdout, res.Result.Stderr
	}
	text := out["stdout"].(string)
	isErr := false
	if res.Error != nil {
		isErr = true
		text = res.Error.Code + ": " + res.Error.Message
	}
	return map[string]any{
		"content":           []any{map[string]any{"type": "text", "text": text}},
		"structuredContent": out,
		"isError":           isErr,
	}, nil
}

// executeInSession runs req in the session as a synchronous execution does:
// the one place MCP calls the emulator's execution path (lockSession, then
// Server.run, off the handler goroutine so that a client that goes away
// does not stop the command).
func (s *Server) executeInSession(ctx context.Context, p *pool, sid string, req ExecRequest) (execResource, error) {
	ss, err := s.lockSession(p, sid) // holds s.mu on success
	if err != nil {
		return execResource{}, err
	}
	e := &execution{id: uuid.NewString(), session: sid, execType: "Synchronous", done: make(chan struct{})}
	ss.rememberLocked(e)
	ss.running++
	ss.wg.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	req.Pool, req.SessionID, req.ExecutionID, req.Dir = p.spec.Name, sid, e.id, ss.dir
	go func() {
		defer s.wg.Done()
		defer ss.wg.Done()
		e.res = s.run(ss, req, e)
		close(e.done)
		s.mu.Lock()
		ss.running--
		ss.lastAccessed = s.opts.Now().UTC()
		s.mu.Unlock()
	}()
	select {
	case <-e.done:
		return e.res, nil
	case <-ctx.Done():
		return execResource{}, ctx.Err()
	}
}
