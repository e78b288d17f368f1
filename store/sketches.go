package store

import "fmt"

// Visitor sketches: per window, a mergeable estimate of its distinct
// visitor keys, written by ReplaceRollups from the window's visit rows and
// kept like the rollups, after retention has deleted the raw events and
// visit rows (which hold the keys). A sketch holds hashed state only
// (HyperLogLog registers: for each bucket of hashes, the longest run of
// leading zero bits seen), from which no visitor key can be read back, so
// it outlives the keys. Merging the sketches of several windows estimates
// the distinct visitors of the range: the planner reads them only where
// the visit rows of a range are gone, and marks the figure an estimate.
//
// ClickHouse keeps uniqCombined states (2^17 HyperLogLog cells, standard
// error about 0.3%; exact-ish below a few thousand keys, where the state is
// a set of 32-bit hashes); SQLite HyperLogLog++ sketches of 2^14 registers
// (github.com/axiomhq/hyperloglog; standard error 1.04/√16384 ≈ 0.8%;
// sparse, so near exact, below a few thousand keys). SketchErrorBound is
// the relative error the documentation promises for either: over three
// standard errors of the coarser one.
const SketchErrorBound = 0.03

// ValidateSketchQuery checks that q asks what a sketch answers: the
// distinct visitors of all visits (DimTotal, no filter) per bucket.
func ValidateSketchQuery(q VisitQuery) error {
	if err := q.Validate(); err != nil {
		return err
	}
	if q.Dimension != DimTotal || len(q.Filters) > 0 {
		return fmt.Errorf("visitor sketches: only the total visitors, unfiltered, are kept")
	}
	return nil
}
