package sessionstest

import (
	"net/http"
	"os/exec"
	"time"
)

func (s *Server) handleMetadata(w http.ResponseWriter, p *pool) {
	type nv struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	created := p.createdAt.Format(time.RFC3339Nano)
	writeJSON(w, http.StatusOK, map[string]any{
		"runtimes":             []nv{{Name: "bash", Version: s.bashVersion()}},
		"preInstalledPackages": []nv{},
		"createdAt":            created,
		"lastUpdatedAt":        created,
		"jupyterKernel":        map[string]string{"name": "", "version": "", "projectUrl": "", "description": ""},
	})
}

func (s *Server) bashVersion() string {
	s.mu.Lock()
	v := s.bashVer
	s.mu.Unlock()
	if v != "" {
		return v
	}
	v = "unknown"
	if path, err := lookPath("bash"); err == nil {
		if out, err := exec.Command(path, "-c", `printf %s "$BASH_VERSION"`).Output(); err == nil && len(out) > 0 {
			v = string(out)
		}
	}
	s.mu.Lock()
	s.bashVer = v
	s.mu.Unlock()
	return v
}
