package pgtls

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/internal/pgtest"
)

func TestLoadDERAndSetClientCert(t *testing.T) {
	dir := t.TempDir()
	ca := pgtest.NewAuthority(t, "test CA")
	cert, key := ca.Issue(t, "postgres", true)
	certPath, derPath, pemPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pk8"), filepath.Join(dir, "k.pem")
	pgtest.WriteFile(t, certPath, pgtest.CertPEM(cert))
	pgtest.WriteFile(t, derPath, pgtest.KeyDER(t, key))
	pgtest.WriteFile(t, pemPath, pgtest.KeyPEM(t, key))
	if !IsDER(derPath) || IsDER(pemPath) || IsDER(filepath.Join(dir, "missing")) {
		t.Error("IsDER")
	}
	pair, err := LoadDER(certPath, derPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDER(certPath, derPath, "secret"); !errors.Is(err, ErrEncryptedDER) {
		t.Errorf("with a password: %v", err)
	}
	if _, err := LoadDER(certPath, certPath, ""); err == nil {
		t.Error("a certificate loaded as a DER key")
	}
	pc, err := pgconn.ParseConfig("postgres://u@127.0.0.1:5432/d?sslmode=prefer")
	if err != nil {
		t.Fatal(err)
	}
	SetClientCert(pc, pair)
	n := 0
	for _, tc := range append([]*pgconn.FallbackConfig{{TLSConfig: pc.TLSConfig}}, pc.Fallbacks...) {
		if tc.TLSConfig != nil {
			n++
			if len(tc.TLSConfig.Certificates) != 1 {
				t.Errorf("a TLS attempt without the certificate")
			}
		}
	}
	if n == 0 {
		t.Error("sslmode=prefer has no TLS attempt")
	}
}
