package auth

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

var encodedHash = regexp.MustCompile(`^argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashAndVerifyPassword(t *testing.T) {
	const password = "correct horse battery staple"
	hash, err := HashPassword(password)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	if !encodedHash.MatchString(hash) {
		t.Errorf("hash %q does not read argon2id$v=19$m=19456,t=2,p=1$salt$hash", hash)
	}
	if strings.Contains(hash, password) {
		t.Error("the hash holds the password")
	}
	again, err := HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if again == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right", password, true},
		{"wrong", "correct horse battery stapler", false},
		{"case differs", strings.ToUpper(password), false},
		{"empty", "", false},
		{"prefix", password[:10], false},
		{"over the length limit", password + strings.Repeat("x", MaxPasswordLen), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyPassword(hash, tt.password)
			if err != nil {
				t.Fatalf("VerifyPassword: %v", err)
			}
			if got != tt.want {
				t.Errorf("VerifyPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

// The parameters are read from the hash, so hashes made with other costs
// (older or newer settings) keep verifying.
func TestVerifyPasswordReadsParameters(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("hunter2hunter2"), salt, 1, 64*1024, 2, 32)
	hash := encodeHash(argonParams{memory: 64 * 1024, time: 1, threads: 2}, salt, key)
	if !strings.HasPrefix(hash, "argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("encoded as %q", hash)
	}
	ok, err := VerifyPassword(hash, "hunter2hunter2")
	if err != nil || !ok {
		t.Errorf("VerifyPassword = %v, %v; want true", ok, err)
	}
}

func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	good, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[3], parts[4]
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"old version", "argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"leading dollar", "$" + good},
		{"missing hash", "argon2id$v=19$m=19456,t=2,p=1$" + salt},
		{"unknown parameter", "argon2id$v=19$m=19456,t=2,p=1,x=3$" + salt + "$" + key},
		{"memory of 4 GiB", "argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"no passes", "argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"a thousand passes", "argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key},
		{"300 threads", "argon2id$v=19$m=19456,t=2,p=300$" + salt + "$" + key},
		{"bad base64", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$!!!"},
		{"short key", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAA"},
		{"short salt", "argon2id$v=19$m=19456,t=2,p=1$AAAA$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.hash, "correct horse battery staple")
			if err == nil || ok {
				t.Errorf("VerifyPassword(%q) = %v, %v; want an error", tt.hash, ok, err)
			}
		})
	}
}

func TestHashPasswordLengthLimits(t *testing.T) {
	tests := []struct {
		name     string
		password string
		wantErr  bool
	}{
		{"too short", "short", true},
		{"shortest", strings.Repeat("a", MinPasswordLen), false},
		{"longest", strings.Repeat("a", MaxPasswordLen), false},
		{"too long", strings.Repeat("a", MaxPasswordLen+1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := HashPassword(tt.password)
			if (err != nil) != tt.wantErr {
				t.Errorf("HashPassword: error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	a, b := GeneratePassword(), GeneratePassword()
	if len(a) < MinPasswordLen || a == b {
		t.Errorf("GeneratePassword gave %q and %q", a, b)
	}
	if _, err := HashPassword(a); err != nil {
		t.Errorf("a generated password is refused: %v", err)
	}
}

// TestNewUserRefusesWeakPasswords: a password long enough is still refused
// when it is easy to guess; a passphrase or a generated one is not.
func TestNewUserRefusesWeakPasswords(t *testing.T) {
	tests := []struct {
		password string
		wantErr  bool
	}{
		{"aaaaaaaaaa", true},                          // the finding: ten of one letter
		{"password123", true},                         // a common password
		{"qwertyuiop", true},                          // a keyboard walk
		{"Password1234", true},                        // a word with predictable changes
		{"ana@example.test1", true},                   // the user's own address
		{strings.Repeat("ab", 500), true},             // a long repeat
		{"correct horse battery staple", false},       // a passphrase
		{"plum-rocket-velvet-harbour", false},         // another
		{GeneratePassword(), false},                   // what footfall generates
		{"sh0rt", true},                               // too short, as before
		{strings.Repeat("x", MaxPasswordLen+1), true}, // too long, as before
	}
	for _, tt := range tests {
		t.Run(tt.password[:min(len(tt.password), 30)], func(t *testing.T) {
			_, err := NewUser(UserSpec{Email: "ana@example.test", Role: RoleAnalyst}, tt.password, time.Now())
			if (err != nil) != tt.wantErr {
				t.Errorf("NewUser with password %q: error %v, want error %v", tt.password, err, tt.wantErr)
			}
		})
	}
}
