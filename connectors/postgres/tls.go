package postgres

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/connectors"
)

// TLS settings beyond sslmode (database.sslrootcert, .sslcert, .sslkey,
// .sslpassword), as Debezium passes them to pgjdbc. pgx reads the root
// certificates and a PEM client key itself (tlsParams); pgjdbc's other
// key format, PKCS-8 DER (a .pk8 file), pgx cannot read, so such a key is
// loaded here and the client certificate set on every TLS configuration
// pgx derived (applyClientCert).

// tlsParams adds the connection parameters pgx handles to q.
func (c Config) tlsParams(q url.Values) {
	if c.SSLRootCert != "" {
		q.Set("sslrootcert", c.SSLRootCert)
	}
	if c.SSLCert != "" && c.SSLKey != "" && !c.derKey() {
		q.Set("sslcert", c.SSLCert)
		q.Set("sslkey", c.SSLKey)
		if c.SSLPassword != "" {
			q.Set("sslpassword", c.SSLPassword)
		}
	}
}

// derKey reports whether SSLKey is not PEM (pgjdbc's PKCS-8 DER). An
// unreadable file counts as PEM: pgx then reports it.
func (c Config) derKey() bool {
	b, err := os.ReadFile(c.SSLKey)
	return err == nil && !bytes.Contains(b, []byte("-----BEGIN"))
}

// applyClientCert sets the client certificate of a DER key on pc's TLS
// configurations (the first attempt and its fallbacks).
func (c Config) applyClientCert(pc *pgconn.Config) error {
	if c.SSLCert == "" || c.SSLKey == "" || !c.derKey() {
		return nil
	}
	cert, err := c.derCertificate()
	if err != nil {
		return err
	}
	set := func(t *tls.Config) {
		if t != nil {
			t.Certificates = []tls.Certificate{cert}
		}
	}
	set(pc.TLSConfig)
	for _, f := range pc.Fallbacks {
		set(f.TLSConfig)
	}
	return nil
}

func (c Config) derCertificate() (tls.Certificate, error) {
	bad := func(key, val, why string) (tls.Certificate, error) {
		return tls.Certificate{}, fmt.Errorf("%w: %w", connectors.ErrInvalidConfig, connectors.NewConfigError(key, val, why))
	}
	if c.SSLPassword != "" {
		return bad(KeySSLKey, c.SSLKey, "an encrypted PKCS-8 DER key cannot be read; convert it to PEM "+
			"(openssl pkcs8 -inform DER -in key.pk8 -out key.pem) and keep database.sslpassword")
	}
	der, err := os.ReadFile(c.SSLKey)
	if err != nil {
		return bad(KeySSLKey, c.SSLKey, err.Error())
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return bad(KeySSLKey, c.SSLKey, "neither PEM nor PKCS-8 DER: "+err.Error())
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return bad(KeySSLKey, c.SSLKey, err.Error())
	}
	certPEM, err := os.ReadFile(c.SSLCert)
	if err != nil {
		return bad(KeySSLCert, c.SSLCert, err.Error())
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return bad(KeySSLCert, c.SSLCert, "the certificate does not go with database.sslkey: "+err.Error())
	}
	return cert, nil
}
