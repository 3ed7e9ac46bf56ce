package sessionstest

// redactID shortens a session identifier for messages: its first four
// characters and an ellipsis.
func redactID(id string) string {
	r := []rune(id)
	if len(r) <= 4 {
		return "…"
	}
	return string(r[:4]) + "…"
}
