"""btx-tui's async REST service layer for the BTX v3 API (no Textual imports here).

- :class:`BtxClient` — one typed async method per endpoint, frozen pydantic models, Decimal money;
- :mod:`.orders` — safe order submission with three outcomes (accepted / rejected / unknown);
- :mod:`.preflight` — local rounding and checks before an order is sent;
- :mod:`.market` — pure views of market data for the dashboard;
- :mod:`.errors` — the typed error hierarchy.
"""

from .client import BtxClient
from .errors import (
    AuthError,
    BadRequest,
    BadResponse,
    Banned,
    BtxError,
    FilterFailure,
    InsufficientBalance,
    NetworkError,
    OrderRejected,
    OutcomeUnknown,
    ProxyFailure,
    RateLimited,
    ServerError,
    TimestampError,
    TlsError,
    UnknownOrder,
    WithdrawalRejected,
)
from .models import *  # noqa: F403
from .models import __all__ as _models_all
from .models_account import *  # noqa: F403
from .models_account import __all__ as _account_all
from .models_trading import *  # noqa: F403
from .models_trading import __all__ as _trading_all
from .orders import (
    CLIENT_ORDER_ID_PREFIX,
    OrderJournal,
    OrderRequest,
    Outcome,
    PlacementResult,
    ResolvePolicy,
    is_btx_client_order_id,
    new_client_order_id,
)
from .preflight import PreflightResult, Problem, SymbolRules, check_order, round_price, round_quantity
from .ratebudget import BudgetSnapshot, RateBudget
from .rest import RetryPolicy

__all__ = [
    "CLIENT_ORDER_ID_PREFIX",
    "AuthError",
    "BadRequest",
    "BadResponse",
    "Banned",
    "BtxClient",
    "BtxError",
    "BudgetSnapshot",
    "FilterFailure",
    "InsufficientBalance",
    "NetworkError",
    "OrderJournal",
    "OrderRejected",
    "OrderRequest",
    "Outcome",
    "OutcomeUnknown",
    "PlacementResult",
    "ProxyFailure",
    "PreflightResult",
    "Problem",
    "RateBudget",
    "RateLimited",
    "ResolvePolicy",
    "RetryPolicy",
    "ServerError",
    "SymbolRules",
    "TimestampError",
    "TlsError",
    "UnknownOrder",
    "WithdrawalRejected",
    "check_order",
    "is_btx_client_order_id",
    "new_client_order_id",
    "round_price",
    "round_quantity",
    *_models_all,
    *_trading_all,
    *_account_all,
]
