package mcpserver

// SessionTools placeholder replaced below once the session service lands.
type SessionTools interface{}

func (s *Server) addSessionTools() {}
