package mesh_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

const (
	exNonce = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	exMAC0  = "bbd51bcb0ea3dabea708bd28940187e88788dc2437023162b9a0e65cebf02ba5"
	exMAC1  = "635920536c7d4d27581427ea2caca738fa06cd663fedcad3d76de122ab28993a"
)

var exTime = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

func TestTokenWorkedExample(t *testing.T) {
	tests := []struct {
		name       string
		count      uint64
		now        time.Time
		wantMAC    string
		wantHeader string
	}{
		{name: "digest worked example count 0", count: 0, now: exTime, wantMAC: exMAC0,
			wantHeader: "NHSMESH X26ABC1:" + exNonce + ":0:202401151030:" + exMAC0},
		{name: "digest worked example count 1", count: 1, now: exTime, wantMAC: exMAC1,
			wantHeader: "NHSMESH X26ABC1:" + exNonce + ":1:202401151030:" + exMAC1},
		{name: "local time converted to UTC", count: 0, now: exTime.In(time.FixedZone("X", 5*3600)), wantMAC: exMAC0,
			wantHeader: "NHSMESH X26ABC1:" + exNonce + ":0:202401151030:" + exMAC0},
		{name: "seconds ignored", count: 1, now: exTime.Add(59 * time.Second), wantMAC: exMAC1,
			wantHeader: "NHSMESH X26ABC1:" + exNonce + ":1:202401151030:" + exMAC1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mesh.NewToken("X26ABC1", "password", "TestKey", exNonce, tt.count, tt.now)
			if tok.MAC != tt.wantMAC {
				t.Errorf("MAC: got %s, want %s", tok.MAC, tt.wantMAC)
			}
			if got := tok.String(); got != tt.wantHeader {
				t.Errorf("header: got %s, want %s", got, tt.wantHeader)
			}
		})
	}
}

// TestTokenIndependentHMAC checks Sign against values computed outside Go
// with `printf %s MESSAGE | openssl dgst -sha256 -hmac KEY`.
func TestTokenIndependentHMAC(t *testing.T) {
	tests := []struct {
		name                                     string
		mailbox, nonce, count, password, ts, key string
		want                                     string
	}{
		{name: "password with a space", mailbox: "MYBOX01", nonce: "n0nce", count: "42", password: "s3cr3t pass", ts: "203012312359", key: "TestKey",
			want: "5ff22ceacb0b37f1d0343e28fc9f9d3fcf51641a730b4324749af930b98007cc"},
		{name: "other shared key", mailbox: "MYBOX01", nonce: "n0nce", count: "42", password: "s3cr3t pass", ts: "203012312359", key: "BackBone",
			want: "1336ed8abfa7315bdb166ae83ddcce4fc6e1892625fe848d9340be2f79ab0ee5"},
		{name: "spec example mailbox count 7", mailbox: "X26HC006", nonce: "1f6c9442-eb9a-440c-b4ed-ee4fd525e176", count: "7", password: "pw", ts: "202006041718", key: "TestKey",
			want: "665811dd25da87b29ebb9e787ab2636b026db4433dd06498b605dd755a94af74"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mesh.Token{Mailbox: tt.mailbox, Nonce: tt.nonce, NonceCount: tt.count, Timestamp: tt.ts}
			if got := tok.Sign(tt.key, tt.password); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseAndVerify(t *testing.T) {
	good := "NHSMESH X26ABC1:" + exNonce + ":0:202401151030:" + exMAC0
	tests := []struct {
		name      string
		header    string
		key, pw   string
		now       time.Time
		window    time.Duration
		wantParse bool
		wantOK    bool
	}{
		{name: "worked example", header: good, key: "TestKey", pw: "password", now: exTime, window: 2 * time.Hour, wantParse: true, wantOK: true},
		{name: "upper-case MAC accepted", header: strings.ToUpper(good[:8]) + good[8:len(good)-64] + strings.ToUpper(exMAC0), key: "TestKey", pw: "password", now: exTime, wantParse: true, wantOK: true},
		{name: "surrounding spaces", header: "  " + good + " ", key: "TestKey", pw: "password", now: exTime, wantParse: true, wantOK: true},
		{name: "wrong password", header: good, key: "TestKey", pw: "Password", now: exTime, wantParse: true},
		{name: "wrong shared key", header: good, key: "Banana", pw: "password", now: exTime, wantParse: true},
		{name: "timestamp 2h01 old", header: good, key: "TestKey", pw: "password", now: exTime.Add(2*time.Hour + 2*time.Minute), window: 2 * time.Hour, wantParse: true},
		{name: "timestamp 2h ahead ok", header: good, key: "TestKey", pw: "password", now: exTime.Add(-2 * time.Hour), window: 2 * time.Hour, wantParse: true, wantOK: true},
		{name: "timestamp too far ahead", header: good, key: "TestKey", pw: "password", now: exTime.Add(-2*time.Hour - time.Minute), window: 2 * time.Hour, wantParse: true},
		{name: "window 0 skips clock", header: good, key: "TestKey", pw: "password", now: exTime.AddDate(1, 0, 0), wantParse: true, wantOK: true},
		{name: "empty", header: ""},
		{name: "no scheme", header: good[len("NHSMESH "):]},
		{name: "lower-case scheme", header: "nhsmesh " + good[8:]},
		{name: "colon after scheme", header: "NHSMESH:" + good[8:]},
		{name: "four fields", header: "NHSMESH X26ABC1:" + exNonce + ":0:" + exMAC0},
		{name: "six fields", header: good + ":x"},
		{name: "count not digits", header: "NHSMESH X26ABC1:" + exNonce + ":-1:202401151030:" + exMAC0},
		{name: "bad month", header: "NHSMESH X26ABC1:" + exNonce + ":0:202413151030:" + exMAC0},
		{name: "short timestamp", header: "NHSMESH X26ABC1:" + exNonce + ":0:20240115103:" + exMAC0},
		{name: "short MAC", header: good[:len(good)-1]},
		{name: "non-hex MAC", header: good[:len(good)-1] + "g"},
		{name: "space in mailbox", header: "NHSMESH X26 ABC1:" + exNonce + ":0:202401151030:" + exMAC0},
		{name: "empty nonce", header: "NHSMESH X26ABC1::0:202401151030:" + exMAC0},
		{name: "huge", header: "NHSMESH " + strings.Repeat("A", 5000) + ":n:0:202401151030:" + exMAC0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := mesh.ParseAuthorization(tt.header)
			if (err == nil) != tt.wantParse {
				t.Fatalf("parse: got err %v, want ok=%v", err, tt.wantParse)
			}
			if err != nil {
				if !errors.Is(err, mesh.ErrAuth) {
					t.Errorf("parse error %v does not match ErrAuth", err)
				}
				return
			}
			err = tok.Verify(tt.key, tt.pw, tt.now, tt.window)
			if (err == nil) != tt.wantOK {
				t.Fatalf("verify: got err %v, want ok=%v", err, tt.wantOK)
			}
			if err != nil {
				if !errors.Is(err, mesh.ErrAuth) {
					t.Errorf("verify error %v does not match ErrAuth", err)
				}
				if strings.Contains(err.Error(), "password") && strings.Contains(err.Error(), tt.pw) {
					t.Errorf("error leaks the password: %v", err)
				}
			}
		})
	}
}

func TestSignerFreshTokens(t *testing.T) {
	s := mesh.NewSigner("X26ABC1", "password", "TestKey")
	seen := map[string]bool{}
	for i := range 5 {
		tok := s.Token(exTime)
		if tok.NonceCount != string(rune('0'+i)) {
			t.Errorf("token %d: count %s", i, tok.NonceCount)
		}
		if seen[tok.String()] {
			t.Fatalf("token %d repeats a header", i)
		}
		seen[tok.String()] = true
		parsed, err := mesh.ParseAuthorization(tok.String())
		if err != nil {
			t.Fatal(err)
		}
		if err := parsed.Verify("TestKey", "password", exTime, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := mesh.NewNonce(), mesh.NewNonce(); a == b || len(a) != 36 {
		t.Errorf("nonces %q %q: want distinct UUIDs", a, b)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("NHSMESH X26ABC1:" + exNonce + ":0:202401151030:" + exMAC0)
	f.Add("NHSMESH X26ABC1:" + exNonce + ":1:202401151030:" + exMAC1)
	f.Add("NHSMESH a:b:c:d:e")
	f.Add("")
	f.Add("NHSMESH ::::")
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := mesh.ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, mesh.ErrAuth) {
				t.Fatalf("error %v does not match ErrAuth", err)
			}
			return
		}
		// A parsed token renders to a header that parses to the same token.
		again, err := mesh.ParseAuthorization(tok.String())
		if err != nil || again != tok {
			t.Fatalf("round trip: %+v -> %q -> %+v, %v", tok, tok.String(), again, err)
		}
		_ = tok.Verify("TestKey", "password", exTime, time.Hour)
	})
}
