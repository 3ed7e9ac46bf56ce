package armemu

import (
	"net/http"
	"net/url"
	"strconv"
)

// writePage answers a list with {"value":[...],"nextLink"} paging by
// $skipToken (an offset).
func (e *Engine) writePage(q *req, items []any) {
	skip, _ := strconv.Atoi(q.r.URL.Query().Get("$skipToken"))
	if skip < 0 || skip > len(items) {
		skip = len(items)
	}
	end := min(skip+e.cfg.PageSize, len(items))
	body := map[string]any{"value": append([]any{}, items[skip:end]...)}
	if end < len(items) {
		v := url.Values{}
		for k, vs := range q.r.URL.Query() {
			v[k] = vs
		}
		v.Set("$skipToken", strconv.Itoa(end))
		body["nextLink"] = q.base + q.r.URL.Path + "?" + v.Encode()
	}
	writeJSON(q.w, http.StatusOK, body)
}
