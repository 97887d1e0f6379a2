package meshserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// FileConfig is the JSON file read by "gpcm mesh-server --config FILE".
// Only "mailboxes" is required; see examples/mesh-server.json.
type FileConfig struct {
	SharedKey string        `json:"shared_key"`
	Mailboxes []MailboxJSON `json:"mailboxes"`
	Patients  []PatientJSON `json:"patients"`
	// Expiry is a Go duration ("120h"); empty = 5 days.
	Expiry string `json:"expiry"`
	// AdminToken enables the admin API.
	AdminToken string `json:"admin_token"`
	// GPProviderWorkflows replaces the list of workflows routed by
	// GPPROVIDER addresses.
	GPProviderWorkflows []string `json:"gpprovider_workflows"`
}

// ParseFileConfig reads and checks a config file; errors name the field.
func ParseFileConfig(r io.Reader) (FileConfig, error) {
	var fc FileConfig
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fc, fmt.Errorf("config: JSON syntax error at byte %d: %w", se.Offset, err)
		}
		return fc, fmt.Errorf("config: %w", err)
	}
	if len(fc.Mailboxes) == 0 {
		return fc, errors.New("config: \"mailboxes\" must list at least one mailbox")
	}
	seen := map[string]bool{}
	for i, j := range fc.Mailboxes {
		mb := j.Mailbox()
		if err := ValidateMailbox(mb); err != nil {
			return fc, fmt.Errorf("config: mailboxes[%d]: %w", i, err)
		}
		if seen[mb.ID] {
			return fc, fmt.Errorf("config: mailboxes[%d]: mailbox %s is listed twice", i, mb.ID)
		}
		seen[mb.ID] = true
	}
	for i, p := range fc.Patients {
		if _, err := p.Patient(); err != nil {
			// The row index, never the patient's details.
			return fc, fmt.Errorf("config: patients[%d]: %w", i, err)
		}
	}
	if fc.Expiry != "" {
		if d, err := time.ParseDuration(fc.Expiry); err != nil || d <= 0 {
			return fc, fmt.Errorf("config: expiry %q must be a positive Go duration such as \"120h\"", fc.Expiry)
		}
	}
	for i, wf := range fc.GPProviderWorkflows {
		if strings.TrimSpace(wf) == "" {
			return fc, fmt.Errorf("config: gpprovider_workflows[%d] is empty", i)
		}
	}
	return fc, nil
}

// ExpiryDuration returns the configured expiry (0 = default).
func (fc FileConfig) ExpiryDuration() time.Duration {
	d, _ := time.ParseDuration(fc.Expiry)
	return d
}

// Apply stores the file's mailboxes and patients (create or replace).
func (fc FileConfig) Apply(ctx context.Context, st Store) error {
	for _, j := range fc.Mailboxes {
		if err := st.PutMailbox(ctx, j.Mailbox()); err != nil {
			return err
		}
	}
	for i, pj := range fc.Patients {
		p, err := pj.Patient()
		if err != nil {
			return fmt.Errorf("config: patients[%d]: %w", i, err)
		}
		if err := st.PutPatient(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
