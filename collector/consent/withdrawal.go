package consent

import (
	"time"

	"github.com/google/uuid"
)

// Withdrawal is a consent id withdrawn at Time. From then on its tokens are
// rejected and its raw events erased.
type Withdrawal struct {
	ConsentID uuid.UUID
	Time      time.Time
}
