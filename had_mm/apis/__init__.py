from had_mm.checkpoint import CheckpointLoadError
from .inference import (PRED_FIELDS, build_inference_pipeline,
                        check_inference_tasks, inference_model, init_model,
                        learnt_tasks, load_checkpoint_file, sample_to_numpy,
                        save_predictions)
from .launch import (WorkDirLockedError, build_runner, check_before_launch,
                     enable_visualization, exit_on_bad_input, load_config,
                     load_tool_config, lock_work_dir, set_test_output_dir)
from .multi_task_inferencer import MultiTaskInferencer

__all__ = [
    'CheckpointLoadError', 'MultiTaskInferencer', 'PRED_FIELDS',
    'build_inference_pipeline', 'build_runner', 'check_before_launch',
    'check_inference_tasks', 'enable_visualization', 'exit_on_bad_input',
    'inference_model', 'init_model', 'learnt_tasks', 'load_checkpoint_file',
    'load_config', 'load_tool_config', 'lock_work_dir', 'save_predictions',
    'sample_to_numpy', 'set_test_output_dir', 'WorkDirLockedError'
]
