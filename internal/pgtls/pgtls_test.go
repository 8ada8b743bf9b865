package pgtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestLoadDERAndSetClientCert(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "postgres"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certPath, derPath, pemPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pk8"), filepath.Join(dir, "k.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(derPath, keyDER, 0o600)
	os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	if !IsDER(derPath) || IsDER(pemPath) || IsDER(filepath.Join(dir, "missing")) {
		t.Error("IsDER")
	}
	cert, err := LoadDER(certPath, derPath, "")
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
	SetClientCert(pc, cert)
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
