package cli

// openInt8 opens PATH as an int8 model when it is an int8 bundle, or when wantInt8 is set
// and an int8 path exists for it. ok reports whether it handled the path.
func openInt8(path string, wantInt8 bool) (lm *loadedModel, ok bool, err error) {
	return nil, false, nil
}
