"""Prospecting: spectra in, resource map and chosen sample site out.

instrument   what the flight software knows of its spectrometer (lab calibration)
solar        the solar spectrum and Planck's law (shared reference physics)
bands        band analysis on any wavelength grid: a pure library API
calibrate    counts -> radiance -> reflectance, photometry, thermal tail
pipeline     the batch pipeline with quality flags and per-stage cost
resource     resource indices and the per-site resource map
shape_model  the on-board shape model: sites, ray casting, illumination
survey       survey planning and coverage
hazard       the lidar hazard map (slope, roughness per site)
sites        site ranking and the choice handed to touch-and-go guidance
"""
