package main

import (
	"github.com/engram-memory/engram/cmd/internal/config"
)

// loadCommandConfig resolves a subcommand's configuration as engramd would,
// except that it never migrates the PostgreSQL schema: a command refuses a
// schema older than itself and leaves `engram migrate` to the schema owner.
func loadCommandConfig(cc *config.Command) (config.Config, error) {
	cfg, err := cc.Load()
	cfg.NoMigrate = true
	return cfg, err
}
