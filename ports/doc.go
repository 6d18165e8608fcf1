// Package ports holds the small interfaces the app layer needs from the
// outside world. Each is defined by its consumer and states its whole
// contract in its doc comment; contracttest holds one suite per port that
// every adapter runs against a real backend.
package ports
