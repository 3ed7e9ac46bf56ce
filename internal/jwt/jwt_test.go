package jwt

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	key := []byte("k1")
	exp := time.Unix(2000000000, 0).UTC()
	in := Claims{Audience: "https://dynamicsessions.io", ObjectID: "oid-1", TenantID: "tid-1", AppID: "app", ExpiresAt: exp}
	tok := Sign(key, in)

	got, err := Verify(key, tok)
	require.NoError(t, err)
	assert.Equal(t, in, got)

	_, err = Verify([]byte("other key"), tok)
	assert.ErrorIs(t, err, ErrSignature, "a token signed with another key must not verify")

	tampered := tok[:len(tok)-2] + "AA"
	_, err = Verify(key, tampered)
	assert.ErrorIs(t, err, ErrSignature)
}

func TestParse(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name    string
		token   string
		want    Claims
		wantErr bool
	}{
		{name: "string audience and azp", token: enc(`{}`) + "." + enc(`{"aud":"https://management.azure.com","azp":"cli","exp":1700000000.5}`) + ".sig",
			want: Claims{Audience: "https://management.azure.com", AppID: "cli", ExpiresAt: time.Unix(1700000000, 0).UTC()}},
		{name: "array audience keeps the first", token: enc(`{}`) + "." + enc(`{"aud":["a","b"],"oid":"o"}`) + ".sig",
			want: Claims{Audience: "a", ObjectID: "o"}},
		{name: "two segments", token: "a.b", wantErr: true},
		{name: "payload not base64", token: "a.!!!.c", wantErr: true},
		{name: "payload not JSON", token: "a." + enc("nope") + ".c", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.token)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrMalformed)
				assert.NotContains(t, err.Error(), tc.token)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
