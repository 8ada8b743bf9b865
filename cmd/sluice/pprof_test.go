package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestPprofEndpoints(t *testing.T) {
	var stderr bytes.Buffer
	t.Setenv(envPprof, "127.0.0.1:0")
	if err := startPprof(&stderr); err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(stderr.String(), "sluice: profiling endpoints on "))
	resp, err := http.Get(url + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("%s: %d", url, resp.StatusCode)
	}
	t.Setenv(envPprof, "127.0.0.1:bogus")
	if err := startPprof(&stderr); err == nil || !strings.Contains(err.Error(), envPprof) {
		t.Errorf("bad address: %v", err)
	}
}
