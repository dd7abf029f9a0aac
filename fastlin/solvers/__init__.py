"""Numerics on reduced statistics: normal equations, L-BFGS, the SGD epoch loop."""
