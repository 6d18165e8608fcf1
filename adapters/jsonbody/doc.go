// Package jsonbody checks a JSON request body's raw bytes before it is
// decoded, for the driving adapters (httpapi, mcpserver).
//
// encoding/json replaces invalid UTF-8 and unpaired surrogate escapes in
// strings with U+FFFD without a word, so a client's text would change
// silently between the wire and the store (issue 11). CheckUTF8 refuses
// such a body instead and names the field that carried the bad string.
package jsonbody
