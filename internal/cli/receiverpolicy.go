package cli

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// receiverPolicyHelp documents the receiver's acceptance flags in the help
// of gpcm receiver and gpcm serve.
const receiverPolicyHelp = `Acceptance: the receiver rejects a message only for what the ITK3
response table names (handling specification, MessageHeader, payload
rules, attachment types, size, duplicates, replacements). MESH transport
metadata that departs from GP Connect (Mex-Subject wording, Mex-LocalID
not the ODS code) never rejects: the document is filed with the finding
shown to staff. --attachment-types lists the attachment media types the
practice accepts (type/subtype or type/*, comma-separated); another type
is answered 20005, an executable, script or HTML (by declared type or by
its first bytes) 20004 unless named exactly. --max-message-bytes bounds a
message after decompression (20015 beyond; nothing larger is written).
--process-budget bounds the time reading and checking one message may take
(over it twice: 10009); a slow message never holds up other senders'
messages. --update-record is the practice's setting for GP Connect Update
Record (pharmacy consultation summaries): review (default: each update
waits in the worklist for a person to review and file it), auto-file (an
update for a registered patient is filed at once, recorded as filed by the
setting) or off (every update is answered 20010; the pharmacy sends it
another way).`

// receiverPolicyFlags are the flags of the receiver's acceptance policy.
type receiverPolicyFlags struct {
	attachmentTypes *string
	maxBytes        *int64
	budget          *time.Duration
	updateRecord    *string
}

func (f *receiverPolicyFlags) register(fs *flag.FlagSet) {
	f.attachmentTypes = fs.String("attachment-types", strings.Join(receiver.DefaultAttachmentTypes(), ","),
		"attachment media `types` the practice accepts, comma-separated (type/subtype or type/*)")
	f.maxBytes = fs.Int64("max-message-bytes", 100<<20, "largest message accepted, in `bytes` after decompression (20015 beyond)")
	f.budget = fs.Duration("process-budget", time.Minute, "time reading and checking one message may take (tried once more, then 10009)")
	f.updateRecord = fs.String("update-record", string(receiver.UpdateRecordReview), "GP Connect Update Record `setting`: review, auto-file or off (20010)")
}

// apply sets the receiver config from the flags; errors name the flag.
func (f *receiverPolicyFlags) apply(cfg *receiver.Config) error {
	var types []string
	for _, t := range strings.Split(*f.attachmentTypes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		return fmt.Errorf("--attachment-types: name at least one media type")
	}
	if err := receiver.CheckAttachmentTypes(types); err != nil {
		return fmt.Errorf("--attachment-types: %w", err)
	}
	if *f.maxBytes < 1 {
		return fmt.Errorf("--max-message-bytes must be positive (got %d)", *f.maxBytes)
	}
	if *f.budget <= 0 {
		return fmt.Errorf("--process-budget must be positive (got %s)", *f.budget)
	}
	ur, err := receiver.ParseUpdateRecordMode(*f.updateRecord)
	if err != nil {
		return fmt.Errorf("--update-record: %w", err)
	}
	cfg.AttachmentTypes, cfg.MaxMessageBytes, cfg.ProcessBudget, cfg.UpdateRecord = types, *f.maxBytes, *f.budget, ur
	return nil
}
