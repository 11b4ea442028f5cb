//go:build unix

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// httpResponse is a response as the fetch command reports it.
type httpResponse struct {
	Status string // the status line without the protocol, such as "200 OK"
	Code   int    // the status code
	Body   []byte // the body, de-chunked
}

// parseResponse splits a complete HTTP/1.x response to a GET, as framed by
// statemachine.HTTPResponse, into its status and its body. Interim 1xx
// responses before the final one are skipped, and a chunked body is
// de-chunked. The framing has already found where the response ends; this
// only takes it apart, with the standard library's parser.
func parseResponse(resp []byte) (httpResponse, error) {
	br := bufio.NewReader(bytes.NewReader(resp))
	for {
		r, err := http.ReadResponse(br, nil)
		if err != nil {
			return httpResponse{}, fmt.Errorf("malformed response: %w", err)
		}
		if r.StatusCode >= 100 && r.StatusCode < 200 && r.StatusCode != http.StatusSwitchingProtocols {
			continue // interim response; the final one follows
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return httpResponse{}, fmt.Errorf("malformed response body: %w", err)
		}
		// r.Status is the status line after the protocol: "200 OK".
		return httpResponse{Status: r.Status, Code: r.StatusCode, Body: body}, nil
	}
}
