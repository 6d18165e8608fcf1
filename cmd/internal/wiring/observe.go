package wiring

import (
	"github.com/engram-memory/engram/ports"
)

// Decoration hooks: Build passes every port through these right after the
// adapter is opened, so tracing, metrics and failsafe-go policies wrap each
// dependency in one place instead of living inside each adapter.

func (s *System) decorateStore(name string, st Store) Store { return st }

func (s *System) decorateReplay(name string, r ports.ReplayCache) ports.ReplayCache { return r }

func (s *System) decorateLimiter(name string, l ports.RateLimiter) ports.RateLimiter { return l }

func (s *System) decorateSessions(name string, ss ports.SessionStore) ports.SessionStore { return ss }

func (s *System) decorateText(name string, t ports.TextIndex) ports.TextIndex { return t }

func (s *System) decorateVectors(name string, v ports.VectorIndex) ports.VectorIndex { return v }

func (s *System) decorateEmbedder(name string, e ports.Embedder) ports.Embedder { return e }
