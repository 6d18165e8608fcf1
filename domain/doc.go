// Package domain is Engram's pure core: memories, apps, principals, scopes,
// their validation rules and the closed set of error kinds every layer speaks.
//
// It imports the standard library only; a test in this module fails if that
// ever changes.
package domain
