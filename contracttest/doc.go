// Package contracttest holds one conformance suite per port. Every adapter's
// _test.go calls the suite for each port it implements, against a real
// backend: a behaviour not in a suite is not promised. Only tests import it.
package contracttest
