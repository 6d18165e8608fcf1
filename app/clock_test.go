package app_test

import "time"

func nowish() time.Time { return time.Now() }
