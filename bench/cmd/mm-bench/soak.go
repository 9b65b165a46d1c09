package main

import (
	"context"
	"errors"
)

func cmdSoak(ctx context.Context, args []string) error { return errors.New("not yet") }
