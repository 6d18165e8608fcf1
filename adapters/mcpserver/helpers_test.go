package mcpserver_test

import (
	"time"

	"github.com/engram-memory/engram/adapters/jwtauth"
)

func timeNow() time.Time { return time.Now() }

func jwtauthClaims(user, org string) jwtauth.Claims {
	return jwtauth.Claims{Subject: user, OrgID: org}
}

func jwtauthClaimsClient(user, org, client string) jwtauth.Claims {
	return jwtauth.Claims{Subject: user, OrgID: org, ClientID: client}
}
