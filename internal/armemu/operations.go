package armemu

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
)

type operation struct {
	id        string
	remaining int    // status reads left that report "running"
	running   string // status while running (InProgress, Running)
	failure   *armError
	result    func() any // body of the final Location answer (nil: empty)
	start     time.Time
}

// maxOperations is how many long-running operations the engine remembers;
// the status URLs of older ones answer 404 OperationNotFound. It keeps a
// long-running emulator's memory bounded.
const maxOperations = 10000

// newOp starts tracking a long-running operation. The caller holds e.mu.
func (e *Engine) newOp(running string) *operation {
	op := &operation{id: uuid.NewString(), remaining: e.cfg.LROPolls, running: running, start: e.cfg.Now()}
	e.ops[op.id] = op
	e.opOrder = append(e.opOrder, op.id)
	if len(e.opOrder) > maxOperations {
		delete(e.ops, e.opOrder[0])
		e.opOrder[0] = ""
		e.opOrder = e.opOrder[1:]
	}
	return op
}

// read reports whether op is done, counting this read as one poll.
func (op *operation) read() bool {
	if op == nil {
		return true
	}
	if op.remaining > 0 {
		op.remaining--
		return false
	}
	return true
}

// done reports whether op is done without counting a poll.
func (op *operation) done() bool { return op == nil || op.remaining <= 0 }

func (e *Engine) setRetryAfter(w http.ResponseWriter) {
	d := e.cfg.RetryAfter
	w.Header().Set("Retry-After-Ms", strconv.FormatInt(d.Milliseconds(), 10))
	if d >= time.Second {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
}

func (e *Engine) serveOperation(q *req, id string, location bool) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	op := e.ops[id]
	if op == nil {
		return errf(http.StatusNotFound, "OperationNotFound", "The operation '%s' was not found; it may belong to another emulator instance.", id)
	}
	done := op.read()
	if location {
		if !done {
			q.w.Header().Set("Location", q.base+q.r.URL.RequestURI())
			e.setRetryAfter(q.w)
			q.w.WriteHeader(http.StatusAccepted)
			return nil
		}
		if op.failure != nil {
			return op.failure
		}
		if op.result != nil {
			writeJSON(q.w, http.StatusOK, op.result())
			return nil
		}
		q.w.WriteHeader(http.StatusOK)
		return nil
	}
	body := map[string]any{"id": q.base + q.r.URL.Path, "name": op.id, "startTime": op.start.UTC().Format(time.RFC3339Nano)}
	switch {
	case !done:
		body["status"] = op.running
		e.setRetryAfter(q.w)
	case op.failure != nil:
		body["status"] = "Failed"
		body["error"] = op.failure
		body["endTime"] = e.cfg.Now().UTC().Format(time.RFC3339Nano)
	default:
		body["status"] = "Succeeded"
		body["endTime"] = e.cfg.Now().UTC().Format(time.RFC3339Nano)
	}
	writeJSON(q.w, http.StatusOK, body)
	return nil
}

// opURL is base+path with the api-version query.
func opURL(base, path, apiVersion string) string {
	return base + path + "?api-version=" + url.QueryEscape(apiVersion)
}
