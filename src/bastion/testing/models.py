"""Every model of the app, for Django: the tables live in the sub-packages' models modules."""

from bastion.testing.custody.models import (  # noqa: F401
    Bag,
    BagStatus,
    BagTube,
    Box,
    BoxReceipt,
    BoxStatus,
    Handover,
    HandoverLeg,
)
from bastion.testing.results.models import ResultImport, Retest, RetestState  # noqa: F401
from bastion.testing.rounds.models import (  # noqa: F401
    CUSTODY_HOURS,
    DEFAULT_DEADLINE,
    MAX_TUBE_CAPACITY,
    POOL_SIZES,
    Round,
    Shift,
    Site,
    SiteArea,
    SitePost,
    StaffRole,
    Station,
    StationKind,
)
from bastion.testing.scans.models import (  # noqa: F401
    Result,
    Scan,
    ScanKind,
    Tube,
    TubeKind,
    TubeStatus,
    WalkIn,
)
