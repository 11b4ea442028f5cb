//go:build unix

package main

import (
	"context"
	"strings"
	"testing"
)

func TestFetchParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name, resp   string
		status, body string
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "200 OK", "hello"},
		{"empty", "HTTP/1.1 204 No Content\r\n\r\n", "204 No Content", ""},
		{"until EOF", "HTTP/1.0 200 OK\r\n\r\nall of it\n", "200 OK", "all of it\n"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n", "200 OK", "hello, world"},
		{"interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
			"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n", "404 Not Found", "no\n"},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "200 OK", "ok"},
	} {
		r, err := parseResponse([]byte(tc.resp))
		if err != nil {
			t.Errorf("%s: parseResponse(%q) failed: %v; want status %q", tc.name, tc.resp, err, tc.status)
			continue
		}
		if r.Status != tc.status || string(r.Body) != tc.body {
			t.Errorf("%s: parseResponse(%q) = status %q, body %q; want %q, %q", tc.name, tc.resp, r.Status, r.Body, tc.status, tc.body)
		}
	}
	for _, bad := range []string{
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
	} {
		if r, err := parseResponse([]byte(bad)); err == nil {
			t.Errorf("parseResponse(%q) = %+v, nil; want an error", bad, r)
		}
	}
}

func TestFetchParseTarget(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		url, addr, request string
	}{
		{"http://127.0.0.1:8080/a/b?c=d#frag", "127.0.0.1:8080", "GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"},
		{"http://127.0.0.1", "127.0.0.1:80", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"},
		{"http://[::1]:81/x%20y", "[::1]:81", "GET /x%20y HTTP/1.1\r\nHost: [::1]:81\r\n"},
	} {
		got, err := parseTarget(ctx, tc.url)
		if err != nil {
			t.Errorf("parseTarget(%q) failed: %v; want address %s", tc.url, err, tc.addr)
			continue
		}
		if got.Addr.String() != tc.addr || !strings.HasPrefix(string(got.Request), tc.request) {
			t.Errorf("parseTarget(%q) = %v, %q; want %s and a request starting %q", tc.url, got.Addr, got.Request, tc.addr, tc.request)
		}
		req := string(got.Request)
		if !strings.Contains(req, "\r\nConnection: close\r\n") || !strings.Contains(req, "\r\nUser-Agent: muxkit\r\n") || !strings.HasSuffix(req, "\r\n\r\n") {
			t.Errorf("parseTarget(%q) request %q; want Connection: close, User-Agent: muxkit and an empty line at the end", tc.url, req)
		}
	}
	// localhost resolves from the hosts file or the resolver; any loopback
	// address will do.
	if got, err := parseTarget(ctx, "http://localhost:9/"); err != nil || !got.Addr.Addr().IsLoopback() || got.Addr.Port() != 9 {
		t.Errorf("parseTarget(http://localhost:9/) = %v, %v; want a loopback address, port 9", got.Addr, err)
	}
	for _, bad := range []string{
		"https://127.0.0.1/", "ftp://127.0.0.1/", "127.0.0.1:80", "http:///path", "http://example.com/",
		"http://127.0.0.1:99999/", "http://127.0.0.1:0/", "http://u:p@127.0.0.1/", "http://[fe80::1%25eth0]/",
		"http://%zz", "mailto:x@127.0.0.1",
	} {
		if got, err := parseTarget(ctx, bad); err == nil {
			t.Errorf("parseTarget(%q) = %v; want an error", bad, got.Addr)
		}
	}
}
