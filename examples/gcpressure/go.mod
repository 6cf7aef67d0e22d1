module gcpressure

go 1.27
