"""Stage-3 image alignment: source catalogs per exposure, catalog matching, linear fits and
the tangent-plane correction of the gwcs (the numerics live in ``webbflow.kernels.detect``
and ``webbflow.kernels.match``)."""
