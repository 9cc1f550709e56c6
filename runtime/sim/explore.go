package sim

// Explorer makes exploratory actions for recording training data: an
// Ornstein-Uhlenbeck process per action dimension around a mean that jumps to
// a new random level every few dozen steps (sometimes to zero, so the data
// also holds the arm coasting to rest). The jumps make the arm sweep its
// whole range within an episode; the OU noise makes the motion smooth but
// not predictable. Deterministic given the seed; Next allocates nothing.
type Explorer struct {
	rng   rng
	a, mu [ActionDim]float64
	left  int // steps until the mean jumps
	out   [ActionDim]float32
}

// OU parameters per step: pull towards the mean and noise scale.
const (
	ouTheta = 0.15
	ouSigma = 0.25
)

// NewExplorer returns an explorer seeded with seed, starting from zero.
func NewExplorer(seed uint64) *Explorer {
	e := &Explorer{rng: newRNG(seed ^ 0x6578706c6f7265)}
	e.jump()
	return e
}

func (e *Explorer) jump() {
	e.left = 15 + int(e.rng.next()%40)
	if e.rng.float() < 0.15 {
		e.mu = [ActionDim]float64{}
		return
	}
	for i := range e.mu {
		e.mu[i] = 2*e.rng.float() - 1
	}
}

// Next returns the next action, each component in [-1, 1]. The slice is
// reused by the following call.
func (e *Explorer) Next() []float32 {
	if e.left--; e.left <= 0 {
		e.jump()
	}
	for i := range e.a {
		e.a[i] += ouTheta*(e.mu[i]-e.a[i]) + ouSigma*e.rng.norm()
		e.a[i] = max(-1, min(1, e.a[i]))
		e.out[i] = float32(e.a[i])
	}
	return e.out[:]
}
