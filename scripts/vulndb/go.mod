// A module of its own so that the vulnerability-database builder is no part
// of Engram's build (go build ./... and go vet ./... at the root skip it).
// Standard library only.
module github.com/engram-memory/engram/scripts/vulndb

go 1.26.8
