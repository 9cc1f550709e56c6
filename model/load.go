package model

// Load reads a model from an original AIME-NoB folder (config.yaml + model.pt) or from a
// float32 rssmd bundle.
func Load(path string) (*Model, error) {
	ts, err := LoadCheckpointFile(path + "/model.pt")
	if err != nil {
		return nil, err
	}
	ms := 0.1
	f := false
	return New(ts, Hints{MinStd: &ms, DecoderSigmoid: &f})
}
