package cli

import "testing"

func TestFlagValue(t *testing.T) {
	tests := []struct {
		args      []string
		name      string
		want      string
		wantFound bool
	}{
		{[]string{"--postgres", "postgres://h/db", "--s3", "x"}, "postgres", "postgres://h/db", true},
		{[]string{"--postgres=postgres://h/db"}, "postgres", "postgres://h/db", true},
		{[]string{"-postgres", "u"}, "postgres", "u", true},
		{[]string{"--postgres-schema", "s"}, "postgres", "", false},
		{[]string{"--postgres-schema", "s"}, "postgres-schema", "s", true},
		{[]string{"--postgres"}, "postgres", "", true},
		{nil, "postgres", "", false},
	}
	for _, tt := range tests {
		got, found := flagValue(tt.args, tt.name)
		if got != tt.want || found != tt.wantFound {
			t.Errorf("flagValue(%q, %q) = %q, %v; want %q, %v", tt.args, tt.name, got, found, tt.want, tt.wantFound)
		}
	}
}
