//! Instructions → stages, global ARGs, the stage graph (to be written).
