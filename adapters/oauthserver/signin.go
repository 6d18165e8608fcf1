package oauthserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// session is a signed-in browser, kept in this process only.
type session struct {
	tenant  domain.Tenant
	expires time.Time
}

// maxSessions bounds the session map; beyond it expired sessions are
// dropped, and if none are, the sign-in still works but is not remembered.
const maxSessions = 10_000

func (s *Server) sessionOf(r *http.Request) (domain.Tenant, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return domain.Tenant{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[HashSecret(c.Value)]
	if !ok || s.deps.Clock.Now().After(sess.expires) {
		return domain.Tenant{}, false
	}
	return sess.tenant, true
}

func (s *Server) startSession(w http.ResponseWriter, t domain.Tenant) {
	v := randomToken()
	now := s.deps.Clock.Now()
	s.mu.Lock()
	if len(s.sessions) >= maxSessions {
		for k, sess := range s.sessions {
			if now.After(sess.expires) {
				delete(s.sessions, k)
			}
		}
	}
	stored := len(s.sessions) < maxSessions
	if stored {
		s.sessions[HashSecret(v)] = session{tenant: t, expires: now.Add(s.cfg.SessionTTL)}
	}
	s.mu.Unlock()
	if stored {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: v, Path: "/", HttpOnly: true, Secure: s.cfg.TLS,
			SameSite: http.SameSiteLaxMode, MaxAge: int(s.cfg.SessionTTL.Seconds())})
	}
}

const wrongSecret = "Wrong user, organisation, password or one-time code."

// signIn checks a user's password or one-time code within the per-IP and
// per-user attempt limits. It returns the tenant, or a status and message
// for the page. A one-time code is spent by a successful sign-in.
func (s *Server) signIn(r *http.Request, org, user, secret string) (domain.Tenant, int, string) {
	ctx := r.Context()
	t := domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
	if err := t.Validate(); err != nil || secret == "" {
		return t, http.StatusUnauthorized, wrongSecret
	}
	if ok, retry := s.allow(ctx, "oauth:signin:ip:"+clientIP(r), s.cfg.SignInIPLimit); !ok {
		return t, http.StatusTooManyRequests, fmt.Sprintf("Too many sign-in attempts from your address. Try again in %d minutes.", int(retry.Minutes())+1)
	}
	if ok, retry := s.allow(ctx, "oauth:signin:user:"+org+"/"+user, s.cfg.SignInUserLimit); !ok {
		return t, http.StatusTooManyRequests, fmt.Sprintf("Too many sign-in attempts for this user. Try again in %d minutes.", int(retry.Minutes())+1)
	}
	u, err := s.deps.Store.GetUser(ctx, t.OrgID, t.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		// The same work as a real check, so timing does not tell which
		// user names exist.
		_, _ = checkPassword(dummyHash(), secret)
		return t, http.StatusUnauthorized, wrongSecret
	}
	if err != nil {
		s.deps.Logger.ErrorContext(ctx, "oauth: get user", "err", err)
		return t, http.StatusServiceUnavailable, "Sign-in is unavailable right now; try again shortly."
	}
	now := s.deps.Clock.Now()
	if u.CodeHash != "" && now.Before(u.CodeExpiresAt) &&
		subtle.ConstantTimeCompare([]byte(u.CodeHash), []byte(HashSecret(normalizeCode(secret)))) == 1 {
		u.CodeHash, u.CodeExpiresAt, u.UpdatedAt = "", time.Time{}, now
		if err := s.deps.Store.PutUser(ctx, u); err != nil {
			s.deps.Logger.ErrorContext(ctx, "oauth: spend sign-in code", "err", err)
			return t, http.StatusServiceUnavailable, "Sign-in is unavailable right now; try again shortly."
		}
		return t, 0, ""
	}
	ok, err := checkPassword(u.PasswordHash, secret)
	if err != nil {
		s.deps.Logger.ErrorContext(ctx, "oauth: check password", "err", err)
	}
	if !ok {
		return t, http.StatusUnauthorized, wrongSecret
	}
	return t, 0, ""
}

// dummyHash is checked against when the user does not exist.
// It is made on first use, not at start: every process importing this
// package would otherwise pay for one slow hash.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not-a-password-of-anyone", DefaultPasswordIterations)
	return h
})

// SignInCodeTTL is how long a one-time sign-in code is accepted.
const SignInCodeTTL = 24 * time.Hour

// IssueSignInCode creates the user when absent and gives them a fresh
// one-time sign-in code (replacing any pending one), valid for
// SignInCodeTTL. The code is returned once and stored hashed.
func IssueSignInCode(ctx context.Context, store ports.OAuthStore, t domain.Tenant, now time.Time) (string, error) {
	u, err := loadOrNewUser(ctx, store, t, now)
	if err != nil {
		return "", err
	}
	code, hash := NewSignInCode()
	u.CodeHash, u.CodeExpiresAt, u.UpdatedAt = hash, now.Add(SignInCodeTTL), now
	if err := store.PutUser(ctx, u); err != nil {
		return "", fmt.Errorf("oauthserver: save sign-in code: %w", err)
	}
	return code, nil
}

// SetPassword creates the user when absent and sets their password
// (iterations <= 0: DefaultPasswordIterations). A password shorter than
// MinPasswordLen wraps domain.ErrInvalid.
func SetPassword(ctx context.Context, store ports.OAuthStore, t domain.Tenant, password string, iterations int, now time.Time) error {
	h, err := HashPassword(password, iterations)
	if err != nil {
		return domain.Invalid("password", "%s", err.Error())
	}
	u, err := loadOrNewUser(ctx, store, t, now)
	if err != nil {
		return err
	}
	u.PasswordHash, u.UpdatedAt = h, now
	if err := store.PutUser(ctx, u); err != nil {
		return fmt.Errorf("oauthserver: save password: %w", err)
	}
	return nil
}

// AddUser creates a user with a password; an existing user is
// domain.ErrAlreadyExists (use SetPassword to change it).
func AddUser(ctx context.Context, store ports.OAuthStore, t domain.Tenant, password string, iterations int, now time.Time) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if _, err := store.GetUser(ctx, t.OrgID, t.UserID); err == nil {
		return fmt.Errorf("user %s of org %s: %w", t.UserID, t.OrgID, domain.ErrAlreadyExists)
	} else if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	return SetPassword(ctx, store, t, password, iterations, now)
}

func loadOrNewUser(ctx context.Context, store ports.OAuthStore, t domain.Tenant, now time.Time) (domain.OAuthUser, error) {
	if err := t.Validate(); err != nil {
		return domain.OAuthUser{}, err
	}
	u, err := store.GetUser(ctx, t.OrgID, t.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.OAuthUser{OrgID: t.OrgID, UserID: t.UserID, CreatedAt: now, UpdatedAt: now}, nil
	}
	return u, err
}
