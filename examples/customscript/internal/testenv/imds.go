package testenv

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// IMDSTenant is the tenant in the issuer of the tokens IMDS hands out.
const IMDSTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// IMDS is a fake instance metadata service that answers managed identity token requests
// (GET /metadata/identity/oauth2/token with the header Metadata: true) with a token that
// Azurite's basic OAuth accepts. It records the requests' query parameters.
type IMDS struct {
	*httptest.Server
	// Token is the access token it hands out.
	Token string

	mu       sync.Mutex
	requests []url.Values
}

// processToken is the token every fake IMDS of this process hands out. The Azure SDK (MSAL)
// caches managed identity tokens in a process-wide cache, so a test that started a new fake
// with a new token would still be sent the token an earlier test's fake handed out.
var processToken = sync.OnceValue(func() string { return NewToken(2 * time.Hour) })

// NewIMDS starts a fake IMDS on a local port; Close stops it.
func NewIMDS() *IMDS {
	m := &IMDS{Token: processToken()}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

// Requests returns the query parameters of the token requests so far.
func (m *IMDS) Requests() []url.Values {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]url.Values(nil), m.requests...)
}

func (m *IMDS) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metadata/identity/oauth2/token" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Metadata") != "true" {
		http.Error(w, `{"error":"invalid_request","error_description":"Required metadata header not specified"}`, http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	m.mu.Lock()
	m.requests = append(m.requests, q)
	m.mu.Unlock()
	now := time.Now().Unix()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"access_token":   m.Token,
		"client_id":      "00000000-0000-0000-0000-000000000000",
		"expires_in":     "3599",
		"expires_on":     strconv.FormatInt(now+3599, 10),
		"ext_expires_in": "3599",
		"not_before":     strconv.FormatInt(now, 10),
		"resource":       q.Get("resource"),
		"token_type":     "Bearer",
	})
}

// NewToken returns a JWT for the storage audience, valid for d, that Azurite's basic OAuth
// accepts: it checks the issuer, audience and lifetime, not the signature.
func NewToken(d time.Duration) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	sig := make([]byte, 32)
	rand.Read(sig)
	return enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." +
		enc(map[string]any{
			"aud": "https://storage.azure.com",
			"iss": fmt.Sprintf("https://sts.windows.net/%s/", IMDSTenant),
			"iat": now, "nbf": now - 60, "exp": now + int64(d.Seconds()),
			"oid": "11111111-2222-3333-4444-555555555555",
		}) + "." + base64.RawURLEncoding.EncodeToString(sig)
}
