package sessionstest

import (
	"net/http"
	"net/url"
)

// RecordedRequest is one request the server received.
type RecordedRequest struct {
	// Method is the HTTP method.
	Method string
	// Host is the request's Host header.
	Host string
	// Path is the URL path as sent.
	Path string
	// Query is the parsed query string (it holds the session identifier:
	// keep it out of logs).
	Query url.Values
	// Header is a copy of the headers with Authorization (and x-ms-apikey)
	// redacted.
	Header http.Header
	// Body holds up to 64 KiB of a JSON body; nil for uploads.
	Body []byte
}

// Requests returns a copy of the requests received since the start or the
// last ResetRequests, oldest first: at most Options.MaxRecordedRequests of
// them, the most recent.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedRequest(nil), s.reqs...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

const (
	maxRecordedBody = 64 << 10
	maxJSONBody     = 4 << 20
)

func (s *Server) record(r *http.Request, body []byte, isUpload bool) {
	h := r.Header.Clone()
	if h.Get("Authorization") != "" {
		h.Set("Authorization", "Bearer REDACTED")
	}
	if h.Get("x-ms-apikey") != "" {
		h.Set("x-ms-apikey", "REDACTED")
	}
	rec := RecordedRequest{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.Query(), Header: h}
	if !isUpload && len(body) > 0 {
		rec.Body = append([]byte(nil), body[:min(len(body), maxRecordedBody)]...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.opts.MaxRecordedRequests
	if limit < 0 {
		return
	}
	if len(s.reqs) >= limit {
		// Drop the oldest; copy down so the backing array stays limit long.
		n := copy(s.reqs, s.reqs[len(s.reqs)-limit+1:])
		clear(s.reqs[n:])
		s.reqs = s.reqs[:n]
	}
	s.reqs = append(s.reqs, rec)
}
