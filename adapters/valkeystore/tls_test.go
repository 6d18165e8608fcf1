package valkeystore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/valkeystore"
)

// writeCert makes a self-signed certificate for 127.0.0.1 and returns the
// cert and key paths and a pool trusting it.
func writeCert(t *testing.T, dir string) (certPath, keyPath string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "engram test valkey"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certPath, keyPath, pool
}

// TestTLSAndAuth runs a server that only speaks TLS and requires a password,
// and checks the URL forms engramd is configured with: rediss:// with the
// password and a private CA works; a wrong password, an untrusted
// certificate and plaintext are all refused.
func TestTLSAndAuth(t *testing.T) {
	bin := serverBinary(t)
	dir := t.TempDir()
	certPath, keyPath, pool := writeCert(t, dir)
	port := freePort(t)
	cmd := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", certPath, "--tls-key-file", keyPath, "--tls-ca-cert-file", certPath,
		"--tls-auth-clients", "no", "--requirepass", "s3cret", "--save", "", "--appendonly", "no")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	ctx := context.Background()
	good := valkeystore.Config{
		URL: fmt.Sprintf("rediss://:s3cret@127.0.0.1:%d", port), TLS: &tls.Config{RootCAs: pool},
		DialTimeout: time.Second, Options: valkeystore.Options{Prefix: "tls"},
	}
	var s *valkeystore.Store
	require.Eventually(t, func() bool {
		var err error
		s, err = valkeystore.Open(ctx, good)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "TLS server with password did not accept the right credentials")
	t.Cleanup(func() { _ = s.Close() })
	fresh, err := s.Remember(ctx, "over-tls", time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)

	wrongPass := good
	wrongPass.URL = fmt.Sprintf("rediss://:nope@127.0.0.1:%d", port)
	_, err = valkeystore.Open(ctx, wrongPass)
	require.Error(t, err, "wrong password")

	untrusted := good
	untrusted.TLS = nil // system roots do not know the test CA
	_, err = valkeystore.Open(ctx, untrusted)
	require.Error(t, err, "certificate verification is on")

	plain := good
	plain.URL = fmt.Sprintf("redis://:s3cret@127.0.0.1:%d", port)
	_, err = valkeystore.Open(ctx, plain)
	require.Error(t, err, "plaintext to a TLS port")
}
