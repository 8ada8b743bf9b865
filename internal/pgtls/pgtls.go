// Package pgtls loads the client private keys that pgjdbc takes and pgx
// does not read: PKCS-8 DER files (pgjdbc's .pk8, the format its
// documentation asks for). pgx reads PEM keys from the sslkey connection
// parameter itself; for a DER key the connectors leave sslcert/sslkey out
// of the parameters, load the pair here and set it on the TLS
// configurations pgx derived.
package pgtls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrEncryptedDER: an encrypted PKCS-8 DER key, which the standard
// library cannot decrypt.
var ErrEncryptedDER = errors.New("pgtls: an encrypted PKCS-8 DER key cannot be read; convert it to PEM " +
	"(openssl pkcs8 -inform DER -in key.pk8 -out key.pem) and keep its password")

// IsDER reports whether the key file at path is not PEM. A file that
// cannot be read counts as PEM, so that pgx reports it as it would.
func IsDER(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && !bytes.Contains(b, []byte("-----BEGIN"))
}

// LoadDER returns the client certificate of a PEM certificate file and a
// PKCS-8 DER key file. A password means the key is encrypted, which is
// ErrEncryptedDER.
func LoadDER(certPath, keyPath, password string) (tls.Certificate, error) {
	if password != "" {
		return tls.Certificate{}, ErrEncryptedDER
	}
	der, err := os.ReadFile(keyPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pgtls: %s is neither PEM nor PKCS-8 DER: %w", keyPath, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pgtls: %s does not go with the key %s: %w", certPath, keyPath, err)
	}
	return cert, nil
}

// SetClientCert presents cert on every TLS attempt of pc: the first and
// its fallbacks (sslmode prefer or allow try TLS and plain).
func SetClientCert(pc *pgconn.Config, cert tls.Certificate) {
	set := func(t *tls.Config) {
		if t != nil {
			t.Certificates = []tls.Certificate{cert}
		}
	}
	set(pc.TLSConfig)
	for _, f := range pc.Fallbacks {
		set(f.TLSConfig)
	}
}
