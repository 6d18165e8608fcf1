package config

import (
	"flag"
	"fmt"
)

// Command is an engram subcommand's view of the configuration: the settings
// it also accepts as flags (say --data-dir and --postgres-url), registered on
// its own FlagSet beside its own flags, so that every subcommand resolves a
// setting exactly as engramd does (flag, then ENGRAM_* variable, then
// default) instead of reading the environment itself.
//
//	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
//	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url")
//	text := fs.Bool("text", true, "...")
//	if err := fs.Parse(args); err != nil { ... }
//	cfg, err := cc.Load()
type Command struct {
	fs     *flag.FlagSet
	getenv func(string) string
	flags  map[string]bool
}

// ForCommand registers the settings named by their flag names on fs. An
// unknown name is a programming error and panics.
func ForCommand(fs *flag.FlagSet, getenv func(string) string, flags ...string) *Command {
	c := &Command{fs: fs, getenv: getenv, flags: map[string]bool{}}
	for _, name := range flags {
		s, ok := settingByFlag(name)
		if !ok {
			panic(fmt.Sprintf("config: no setting with flag --%s", name))
		}
		fs.Var(&flagValue{isBool: s.isBool()}, s.flag, s.help+" ($"+s.env+")")
		c.flags[name] = true
	}
	return c
}

// Load resolves and validates the whole Config once fs has been parsed. A
// subcommand opens no listener, so the rule that keeps the zero-config local
// key on loopback addresses (about ENGRAM_ADDR) is waived.
func (c *Command) Load() (Config, error) {
	given := map[string]string{}
	c.fs.Visit(func(f *flag.Flag) {
		if c.flags[f.Name] {
			given[f.Name] = f.Value.String()
		}
	})
	return resolve(given, func(k string) string {
		if k == "ENGRAM_INSECURE_LOCAL_KEY" {
			return "true"
		}
		return c.getenv(k)
	})
}

func settingByFlag(name string) (setting, bool) {
	for _, s := range settings {
		if s.flag == name {
			return s, true
		}
	}
	return setting{}, false
}
