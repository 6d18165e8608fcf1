package inproc

import (
	"encoding/json"
	"strings"
)

// Held is every event the store holds, as held (sealed or not): what a
// dump of the process's memory would find.
func Held(s *SessionStore) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, el := range s.sessions {
		for _, e := range el.Value.(*session).events {
			raw, _ := json.Marshal(e)
			b.Write(raw)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
